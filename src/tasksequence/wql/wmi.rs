//! The simulated WMI repository: which classes exist, their properties, and each
//! property's value on a [`Machine`] (see the table in the parent module).

use std::fmt;

use crate::domain::{Arch, NetType};
use crate::tasksequence::cond::{Machine, os_facts};

/// The simulated WMI classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// `Win32_OperatingSystem`.
    OperatingSystem,
    /// `Win32_Battery`.
    Battery,
    /// `Win32_ComputerSystem`.
    ComputerSystem,
    /// `Win32_ComputerSystemProduct`.
    ComputerSystemProduct,
    /// `Win32_NetworkAdapter`.
    NetworkAdapter,
    /// `Win32_NetworkAdapterConfiguration`.
    NetworkAdapterConfiguration,
    /// `Win32_Processor`.
    Processor,
    /// `Win32_LogicalDisk`.
    LogicalDisk,
}

#[rustfmt::skip]
const CLASSES: &[(&str, Class)] = &[
    ("Win32_OperatingSystem", Class::OperatingSystem),
    ("Win32_Battery", Class::Battery),
    ("Win32_ComputerSystem", Class::ComputerSystem),
    ("Win32_ComputerSystemProduct", Class::ComputerSystemProduct),
    ("Win32_NetworkAdapter", Class::NetworkAdapter),
    (
        "Win32_NetworkAdapterConfiguration",
        Class::NetworkAdapterConfiguration,
    ),
    ("Win32_Processor", Class::Processor),
    ("Win32_LogicalDisk", Class::LogicalDisk),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Prop {
    OsArchitecture,
    OsLanguage,
    Locale,
    Version,
    BuildNumber,
    ProductType,
    Caption,
    TotalVisibleMemorySize,
    SystemDrive,
    BatteryStatus,
    BatteryName,
    Model,
    Manufacturer,
    TotalPhysicalMemory,
    PcSystemType,
    AdapterName,
    AdapterType,
    NetConnectionId,
    NetConnectionStatus,
    NetEnabled,
    PhysicalAdapter,
    IpEnabled,
    AdapterIndex,
    MaxClockSpeed,
    AddressWidth,
    DataWidth,
    Architecture,
    DeviceId,
    FreeSpace,
    DriveType,
}

#[rustfmt::skip]
const PROPS: &[(Class, &str, Prop)] = &[
    (
        Class::OperatingSystem,
        "OSArchitecture",
        Prop::OsArchitecture,
    ),
    (Class::OperatingSystem, "OSLanguage", Prop::OsLanguage),
    (Class::OperatingSystem, "Locale", Prop::Locale),
    (Class::OperatingSystem, "Version", Prop::Version),
    (Class::OperatingSystem, "BuildNumber", Prop::BuildNumber),
    (Class::OperatingSystem, "ProductType", Prop::ProductType),
    (Class::OperatingSystem, "Caption", Prop::Caption),
    (
        Class::OperatingSystem,
        "TotalVisibleMemorySize",
        Prop::TotalVisibleMemorySize,
    ),
    (Class::OperatingSystem, "SystemDrive", Prop::SystemDrive),
    (Class::Battery, "BatteryStatus", Prop::BatteryStatus),
    (Class::Battery, "Name", Prop::BatteryName),
    (Class::ComputerSystem, "Model", Prop::Model),
    (Class::ComputerSystem, "Manufacturer", Prop::Manufacturer),
    (
        Class::ComputerSystem,
        "TotalPhysicalMemory",
        Prop::TotalPhysicalMemory,
    ),
    (Class::ComputerSystem, "PCSystemType", Prop::PcSystemType),
    (Class::ComputerSystemProduct, "Name", Prop::Model),
    (Class::ComputerSystemProduct, "Vendor", Prop::Manufacturer),
    (Class::NetworkAdapter, "Name", Prop::AdapterName),
    (Class::NetworkAdapter, "AdapterType", Prop::AdapterType),
    (
        Class::NetworkAdapter,
        "NetConnectionID",
        Prop::NetConnectionId,
    ),
    (
        Class::NetworkAdapter,
        "NetConnectionStatus",
        Prop::NetConnectionStatus,
    ),
    (Class::NetworkAdapter, "NetEnabled", Prop::NetEnabled),
    (
        Class::NetworkAdapter,
        "PhysicalAdapter",
        Prop::PhysicalAdapter,
    ),
    (Class::NetworkAdapter, "Index", Prop::AdapterIndex),
    (
        Class::NetworkAdapterConfiguration,
        "Description",
        Prop::AdapterName,
    ),
    (
        Class::NetworkAdapterConfiguration,
        "IPEnabled",
        Prop::IpEnabled,
    ),
    (
        Class::NetworkAdapterConfiguration,
        "Index",
        Prop::AdapterIndex,
    ),
    (Class::Processor, "MaxClockSpeed", Prop::MaxClockSpeed),
    (Class::Processor, "AddressWidth", Prop::AddressWidth),
    (Class::Processor, "DataWidth", Prop::DataWidth),
    (Class::Processor, "Architecture", Prop::Architecture),
    (Class::LogicalDisk, "DeviceID", Prop::DeviceId),
    (Class::LogicalDisk, "FreeSpace", Prop::FreeSpace),
    (Class::LogicalDisk, "DriveType", Prop::DriveType),
];

pub(super) fn class_by_name(name: &str) -> Option<Class> {
    CLASSES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, c)| c)
}

pub(super) fn prop_by_name(class: Class, name: &str) -> Option<Prop> {
    PROPS
        .iter()
        .find(|(c, n, _)| *c == class && n.eq_ignore_ascii_case(name))
        .map(|&(_, _, p)| p)
}

/// One simulated network adapter: `(Name, AdapterType, NetConnectionID, physical)`.
type Adapter = (&'static str, &'static str, &'static str, bool);
const ETHERNET: Adapter = (
    "Intel(R) Ethernet Connection I219-LM",
    "Ethernet 802.3",
    "Ethernet",
    true,
);
const WIFI: Adapter = ("Intel(R) Wireless-AC 9560", "Wireless", "Wi-Fi", true);
const VPN: Adapter = (
    "Virtual Private Network Adapter",
    "Wide Area Network (WAN)",
    "VPN",
    false,
);

fn adapters(net: NetType) -> &'static [Adapter] {
    match net {
        NetType::Wired => &[ETHERNET],
        NetType::Wireless => &[WIFI],
        NetType::Vpn => &[WIFI, VPN],
    }
}

pub(super) fn instances(class: Class, m: &Machine<'_>) -> usize {
    match class {
        Class::Battery => usize::from(m.has_battery),
        Class::NetworkAdapter | Class::NetworkAdapterConfiguration => adapters(m.network).len(),
        _ => 1,
    }
}

/// The hardware vendor: the first word of the model (`"Dell Latitude 7490"` -> `"Dell"`).
pub(crate) fn manufacturer(model: &str) -> &str {
    model.split_whitespace().next().unwrap_or("")
}

/// Small fixed-capacity text, so that formatted values (`Locale`, numbers for `LIKE`)
/// need no allocation.
#[derive(Clone, Copy)]
pub(crate) struct Buf {
    bytes: [u8; 48],
    len: usize,
}

impl Buf {
    pub(crate) fn new() -> Self {
        Buf {
            bytes: [0; 48],
            len: 0,
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        self.bytes
            .get(..self.len)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

impl fmt::Write for Buf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let dst = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// A property value of one instance.
#[derive(Clone, Copy)]
pub(super) enum Val<'a> {
    Str(&'a str),
    Buf(Buf),
    Int(i128),
    Bool(bool),
}

pub(super) fn value<'a>(p: Prop, m: &Machine<'a>, row: usize) -> Val<'a> {
    use std::fmt::Write as _;
    let os = os_facts(m.os);
    let x64 = m.arch == Arch::X64;
    let adapter = adapters(m.network).get(row).copied().unwrap_or(ETHERNET);
    match p {
        Prop::OsArchitecture => Val::Str(if x64 { "64-bit" } else { "32-bit" }),
        Prop::OsLanguage => Val::Int(i128::from(m.language)),
        Prop::Locale => {
            let mut b = Buf::new();
            // A u32 in hex is at most 8 characters: always fits.
            let _ = write!(b, "{:04x}", m.language);
            Val::Buf(b)
        }
        Prop::Version => Val::Str(os.version),
        Prop::BuildNumber => Val::Str(os.build),
        Prop::ProductType => Val::Int(i128::from(os.product_type)),
        Prop::Caption => Val::Str(os.caption),
        Prop::TotalVisibleMemorySize => Val::Int(i128::from(m.memory_bytes / 1024)),
        Prop::SystemDrive | Prop::DeviceId => Val::Str("C:"),
        Prop::BatteryStatus => Val::Int(if m.on_battery { 1 } else { 2 }),
        Prop::BatteryName => Val::Str("Internal Battery"),
        Prop::Model => Val::Str(m.model),
        Prop::Manufacturer => Val::Str(manufacturer(m.model)),
        Prop::TotalPhysicalMemory => Val::Int(i128::from(m.memory_bytes)),
        Prop::PcSystemType => Val::Int(if m.has_battery { 2 } else { 1 }),
        Prop::AdapterName => Val::Str(adapter.0),
        Prop::AdapterType => Val::Str(adapter.1),
        Prop::NetConnectionId => Val::Str(adapter.2),
        Prop::NetConnectionStatus => Val::Int(2),
        Prop::NetEnabled | Prop::IpEnabled => Val::Bool(true),
        Prop::PhysicalAdapter => Val::Bool(adapter.3),
        Prop::AdapterIndex => Val::Int(row as i128),
        Prop::MaxClockSpeed => Val::Int(i128::from(m.cpu_mhz)),
        Prop::AddressWidth | Prop::DataWidth => Val::Int(if x64 { 64 } else { 32 }),
        Prop::Architecture => Val::Int(if x64 { 9 } else { 0 }),
        Prop::FreeSpace => Val::Int(i128::from(m.free_disk_bytes)),
        Prop::DriveType => Val::Int(3),
    }
}
