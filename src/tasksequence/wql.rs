//! A subset of WQL, the WMI query language of `SMS_TaskSequence_WMIConditionExpression`,
//! evaluated against a simulated WMI repository derived from the client's [`Machine`].
//!
//! Why a subset and a simulation: the simulator has no Windows to ask, but admins write
//! conditions such as the article's pre-cache example
//! `SELECT * FROM Win32_OperatingSystem WHERE OSArchitecture = '64-bit' AND Locale = '0409'`,
//! and the rollout depends on which clients they select. A query is parsed once
//! ([`Query::parse`]) and evaluated many times ([`Query::eval`]) without allocating.
//!
//! Grammar (keywords case-insensitive):
//!
//! ```text
//! query   := SELECT ( '*' | ident (',' ident)* ) FROM ident [ WHERE or ]
//! or      := and ( OR and )*
//! and     := not ( AND not )*
//! not     := NOT not | '(' or ')' | operand cmp operand
//!          | operand [NOT] LIKE operand | operand IS [NOT] NULL
//! cmp     := '=' | '<>' | '!=' | '<' | '>' | '<=' | '>='
//! operand := ident | 'string' | "string" | integer | TRUE | FALSE
//! ```
//!
//! A query is true when at least one instance of its class matches. As in WMI, string
//! comparisons ignore case and are lexicographic (so `Version >= '10'` is a string
//! comparison, exactly the trap it is on a real client); a string property compared
//! with a number is compared numerically when its text is an integer; `LIKE` takes `%`
//! (any run) and `_` (one character). An unknown class has no instances and a query
//! naming a property its class lacks returns nothing (WMI rejects it as an invalid
//! query), so both make the condition false.
//!
//! The simulated classes (every instance is derived from [`Machine`]):
//!
//! | class | instances | properties |
//! | --- | --- | --- |
//! | `Win32_OperatingSystem` | 1 | `OSArchitecture` (`"64-bit"`/`"32-bit"`), `OSLanguage` (decimal LCID), `Locale` (LCID as 4 hex digits, `"0409"`), `Version` (`"6.1.7601"`...), `BuildNumber` (`"7601"`), `ProductType` (1 workstation, 3 server), `Caption`, `TotalVisibleMemorySize` (KB), `SystemDrive` (`"C:"`) |
//! | `Win32_Battery` | 1 when `has_battery`, else 0 | `BatteryStatus` (1 on battery, 2 on AC), `Name` |
//! | `Win32_ComputerSystem` | 1 | `Model`, `Manufacturer` (first word of the model), `TotalPhysicalMemory` (bytes), `PCSystemType` (2 mobile when it has a battery, else 1 desktop) |
//! | `Win32_ComputerSystemProduct` | 1 | `Name` (the model), `Vendor` (as `Manufacturer`) |
//! | `Win32_NetworkAdapter` | 1 per adapter: wired: Ethernet; wireless: Wi-Fi; vpn: Wi-Fi and a VPN adapter | `Name`, `AdapterType` (`"Ethernet 802.3"`, `"Wireless"`, `"Wide Area Network (WAN)"`), `NetConnectionID` (`"Ethernet"`, `"Wi-Fi"`, `"VPN"`), `NetConnectionStatus` (2 connected), `NetEnabled` and `PhysicalAdapter` (booleans) |
//! | `Win32_NetworkAdapterConfiguration` | as above | `Description` (the adapter name), `IPEnabled` (TRUE), `Index` |
//! | `Win32_Processor` | 1 | `MaxClockSpeed` (MHz), `AddressWidth` and `DataWidth` (64/32 by architecture), `Architecture` (9 x64, 0 x86) |
//! | `Win32_LogicalDisk` | 1 | `DeviceID` (`"C:"`), `FreeSpace` (bytes), `DriveType` (3) |

use std::cmp::Ordering;
use std::fmt;

use super::cond::{Machine, os_facts};
use crate::scenario::model::{Arch, NetType};

/// Deepest nesting of parentheses and `NOT` accepted, so that hostile input cannot
/// overflow the stack of the recursive-descent parser.
pub const MAX_DEPTH: usize = 256;

/// A query that does not parse, located by the 1-based character position in the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WqlError {
    /// 1-based character position of the offending token in the query.
    pub position: usize,
    /// What was found and what was expected.
    pub message: String,
}

impl fmt::Display for WqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "WQL error at position {}: {}",
            self.position, self.message
        )
    }
}

impl std::error::Error for WqlError {}

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
enum Prop {
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

fn class_by_name(name: &str) -> Option<Class> {
    CLASSES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, c)| c)
}

fn prop_by_name(class: Class, name: &str) -> Option<Prop> {
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

fn instances(class: Class, m: &Machine<'_>) -> usize {
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
enum Val<'a> {
    Str(&'a str),
    Buf(Buf),
    Int(i128),
    Bool(bool),
}

fn value<'a>(p: Prop, m: &Machine<'a>, row: usize) -> Val<'a> {
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

/// Folds a character for case-insensitive comparison without allocating.
pub(crate) fn fold(c: char) -> char {
    if c.is_ascii() {
        c.to_ascii_lowercase()
    } else {
        c.to_lowercase().next().unwrap_or(c)
    }
}

/// Case-insensitive lexicographic comparison.
pub(crate) fn cmp_ci(a: &str, b: &str) -> Ordering {
    a.chars().map(fold).cmp(b.chars().map(fold))
}

/// An integer written in decimal, optionally signed, surrounded by optional blanks.
pub(crate) fn parse_int(s: &str) -> Option<i128> {
    let t = s.trim();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<i128>().ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LikeTok {
    Any,
    One,
    Ch(char),
}

/// A compiled SQL `LIKE` pattern: `%` matches any run, `_` one character, everything
/// else itself, ignoring case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LikePattern(Vec<LikeTok>);

impl LikePattern {
    pub(crate) fn new(pattern: &str) -> Self {
        LikePattern(
            pattern
                .chars()
                .map(|c| match c {
                    '%' => LikeTok::Any,
                    '_' => LikeTok::One,
                    c => LikeTok::Ch(fold(c)),
                })
                .collect(),
        )
    }

    /// Greedy matching with one backtrack point (the last `%`): linear for most
    /// patterns, O(n*m) at worst, never recursive.
    pub(crate) fn matches(&self, s: &str) -> bool {
        let pat = &self.0;
        let (mut si, mut pi) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        loop {
            if pat.get(pi) == Some(&LikeTok::Any) {
                pi += 1;
                star = Some((pi, si));
                continue;
            }
            let Some(c) = s.get(si..).and_then(|r| r.chars().next()) else {
                return pi == pat.len();
            };
            let ok = match pat.get(pi) {
                Some(LikeTok::One) => true,
                Some(LikeTok::Ch(p)) => *p == fold(c),
                _ => false,
            };
            if ok {
                si += c.len_utf8();
                pi += 1;
                continue;
            }
            match star {
                Some((sp, ss)) => {
                    let Some(skipped) = s.get(ss..).and_then(|r| r.chars().next()) else {
                        return false;
                    };
                    let next = ss + skipped.len_utf8();
                    star = Some((sp, next));
                    si = next;
                    pi = sp;
                }
                None => return false,
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    fn flip(self) -> Self {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            other => other,
        }
    }

    fn test(self, o: Ordering) -> bool {
        match self {
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::Ne => o != Ordering::Equal,
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Le => o != Ordering::Greater,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Ge => o != Ordering::Less,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str { text: Box<str>, int: Option<i128> },
    Int(i128),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp { prop: Prop, op: CmpOp, lit: Lit },
    Like { prop: Prop, pattern: LikePattern },
    IsNull { negated: bool },
    Const(bool),
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.trim().eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.trim().eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn compare(v: &Val<'_>, lit: &Lit) -> Option<Ordering> {
    let text = match v {
        Val::Str(s) => *s,
        Val::Buf(b) => b.as_str(),
        Val::Int(a) => {
            return match lit {
                Lit::Int(b) | Lit::Str { int: Some(b), .. } => Some(a.cmp(b)),
                Lit::Bool(b) => Some(a.cmp(&i128::from(*b))),
                Lit::Str { int: None, .. } => None,
            };
        }
        Val::Bool(a) => {
            return match lit {
                Lit::Bool(b) => Some(a.cmp(b)),
                Lit::Int(b) => Some(i128::from(*a).cmp(b)),
                Lit::Str { text, .. } => parse_bool(text).map(|b| a.cmp(&b)),
            };
        }
    };
    match lit {
        Lit::Str { text: l, .. } => Some(cmp_ci(text, l)),
        Lit::Int(b) => parse_int(text).map(|a| a.cmp(b)),
        Lit::Bool(b) => parse_bool(text).map(|a| a.cmp(b)),
    }
}

fn like(v: &Val<'_>, pattern: &LikePattern) -> bool {
    use std::fmt::Write as _;
    let mut b = Buf::new();
    let text = match v {
        Val::Str(s) => *s,
        Val::Buf(x) => {
            b = *x;
            b.as_str()
        }
        Val::Int(i) => {
            // An i128 has at most 40 characters: always fits the 48-byte buffer.
            let _ = write!(b, "{i}");
            b.as_str()
        }
        Val::Bool(t) => {
            if *t {
                "TRUE"
            } else {
                "FALSE"
            }
        }
    };
    pattern.matches(text)
}

impl Expr {
    fn eval(&self, m: &Machine<'_>, row: usize) -> bool {
        match self {
            Expr::And(a, b) => a.eval(m, row) && b.eval(m, row),
            Expr::Or(a, b) => a.eval(m, row) || b.eval(m, row),
            Expr::Not(a) => !a.eval(m, row),
            Expr::Cmp { prop, op, lit } => {
                compare(&value(*prop, m, row), lit).is_some_and(|o| op.test(o))
            }
            Expr::Like { prop, pattern } => like(&value(*prop, m, row), pattern),
            // Every simulated property has a value.
            Expr::IsNull { negated } => *negated,
            Expr::Const(b) => *b,
        }
    }
}

/// A parsed WQL query, ready to be evaluated against any number of machines.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    class_name: String,
    class: Option<Class>,
    unknown_property: Option<String>,
    filter: Option<Expr>,
}

impl Query {
    /// Parses a query; errors give the 1-based character position of the bad token.
    pub fn parse(text: &str) -> Result<Query, WqlError> {
        let tokens = tokenize(text)?;
        let mut p = Parser {
            text,
            tokens,
            i: 0,
            class: None,
            unknown: None,
        };
        p.query()
    }

    /// True when at least one instance of the class matches the `WHERE` clause.
    pub fn eval(&self, m: &Machine<'_>) -> bool {
        if self.unknown_property.is_some() {
            return false;
        }
        let Some(class) = self.class else {
            return false;
        };
        (0..instances(class, m)).any(|row| self.filter.as_ref().is_none_or(|e| e.eval(m, row)))
    }

    /// The class named in `FROM`, as written.
    pub fn class_name(&self) -> &str {
        &self.class_name
    }

    /// Whether the class is one the simulator models (otherwise the query is always false).
    pub fn class_known(&self) -> bool {
        self.class.is_some()
    }

    /// The first property the query names that its (known) class lacks; such a query
    /// is always false. Lets `validate` point at a typo.
    pub fn unknown_property(&self) -> Option<&str> {
        self.unknown_property.as_deref()
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Int(i128),
    Star,
    Comma,
    LParen,
    RParen,
    Op(CmpOp),
    Eof,
}

fn char_pos(text: &str, byte: usize) -> usize {
    text.get(..byte).map_or(0, |s| s.chars().count()) + 1
}

fn tokenize(text: &str) -> Result<Vec<(Tok, usize)>, WqlError> {
    let err = |byte: usize, message: String| WqlError {
        position: char_pos(text, byte),
        message,
    };
    let mut out = Vec::new();
    let mut it = text.char_indices().peekable();
    while let Some(&(i, c)) = it.peek() {
        if c.is_whitespace() {
            it.next();
            continue;
        }
        let single = match c {
            '*' => Some(Tok::Star),
            ',' => Some(Tok::Comma),
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            '=' => Some(Tok::Op(CmpOp::Eq)),
            _ => None,
        };
        if let Some(t) = single {
            it.next();
            out.push((t, i));
            continue;
        }
        match c {
            '<' | '>' | '!' => {
                it.next();
                let next = it.peek().map(|&(_, n)| n);
                let op = match (c, next) {
                    ('<', Some('>')) | ('!', Some('=')) => Some(CmpOp::Ne),
                    ('<', Some('=')) => Some(CmpOp::Le),
                    ('>', Some('=')) => Some(CmpOp::Ge),
                    _ => None,
                };
                let op = match op {
                    Some(op) => {
                        it.next();
                        op
                    }
                    None if c == '<' => CmpOp::Lt,
                    None if c == '>' => CmpOp::Gt,
                    None => return Err(err(i, "found `!`, expected `!=`".into())),
                };
                out.push((Tok::Op(op), i));
            }
            '\'' | '"' => {
                it.next();
                let mut s = String::new();
                let mut closed = false;
                while let Some((_, ch)) = it.next() {
                    if ch == c {
                        closed = true;
                        break;
                    }
                    if ch == '\\' {
                        match it.peek().map(|&(_, n)| n) {
                            Some(n) if n == '\\' || n == '\'' || n == '"' => {
                                it.next();
                                s.push(n);
                                continue;
                            }
                            _ => {}
                        }
                    }
                    s.push(ch);
                }
                if !closed {
                    return Err(err(i, "unterminated string".into()));
                }
                out.push((Tok::Str(s), i));
            }
            c if c.is_ascii_digit() || c == '-' => {
                let mut s = String::new();
                s.push(c);
                it.next();
                while let Some(&(_, d)) = it.peek() {
                    if d.is_ascii_alphanumeric() || d == '.' || d == '_' {
                        s.push(d);
                        it.next();
                    } else {
                        break;
                    }
                }
                match parse_int(&s) {
                    Some(n) => out.push((Tok::Int(n), i)),
                    None => {
                        return Err(err(
                            i,
                            format!("found {s:?}, expected an integer (reals are not supported)"),
                        ));
                    }
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut s = String::new();
                while let Some(&(_, d)) = it.peek() {
                    if d.is_alphanumeric() || d == '_' {
                        s.push(d);
                        it.next();
                    } else {
                        break;
                    }
                }
                out.push((Tok::Ident(s), i));
            }
            other => return Err(err(i, format!("unexpected character {other:?}"))),
        }
    }
    out.push((Tok::Eof, text.len()));
    Ok(out)
}

struct Parser<'t> {
    text: &'t str,
    tokens: Vec<(Tok, usize)>,
    i: usize,
    class: Option<Class>,
    unknown: Option<String>,
}

enum Operand {
    Prop(Option<Prop>),
    Lit(Lit),
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        self.tokens.get(self.i).map_or(&Tok::Eof, |(t, _)| t)
    }

    fn pos(&self) -> usize {
        self.tokens.get(self.i).map_or(self.text.len(), |&(_, p)| p)
    }

    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.i < self.tokens.len() {
            self.i += 1;
        }
        t
    }

    fn error(&self, message: impl Into<String>) -> WqlError {
        WqlError {
            position: char_pos(self.text, self.pos()),
            message: message.into(),
        }
    }

    fn error_at(&self, byte: usize, message: &str) -> WqlError {
        WqlError {
            position: char_pos(self.text, byte),
            message: message.into(),
        }
    }

    fn describe(t: &Tok) -> String {
        match t {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Str(s) => format!("the string {s:?}"),
            Tok::Int(n) => format!("the number {n}"),
            Tok::Star => "`*`".into(),
            Tok::Comma => "`,`".into(),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::Op(_) => "an operator".into(),
            Tok::Eof => "the end of the query".into(),
        }
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), WqlError> {
        if self.is_kw(kw) {
            self.bump();
            Ok(())
        } else {
            Err(self.error(format!(
                "found {}, expected {kw}",
                Self::describe(self.peek())
            )))
        }
    }

    fn ident(&mut self, what: &str) -> Result<String, WqlError> {
        match self.peek() {
            Tok::Ident(s) if !is_keyword(s) => {
                let s = s.clone();
                self.bump();
                Ok(s)
            }
            t => Err(self.error(format!("found {}, expected {what}", Self::describe(t)))),
        }
    }

    fn resolve(&mut self, name: &str) -> Option<Prop> {
        let class = self.class?;
        let p = prop_by_name(class, name);
        if p.is_none() && self.unknown.is_none() {
            self.unknown = Some(name.to_string());
        }
        p
    }

    fn query(&mut self) -> Result<Query, WqlError> {
        self.expect_kw("SELECT")?;
        let mut selected = Vec::new();
        if self.peek() == &Tok::Star {
            self.bump();
        } else {
            loop {
                selected.push(self.ident("a property name or `*`")?);
                if self.peek() == &Tok::Comma {
                    self.bump();
                } else {
                    break;
                }
            }
        }
        self.expect_kw("FROM")?;
        let class_name = self.ident("a class name")?;
        self.class = class_by_name(&class_name);
        for s in &selected {
            self.resolve(s);
        }
        let filter = if self.is_kw("WHERE") {
            self.bump();
            Some(self.or(0)?)
        } else {
            None
        };
        if self.peek() != &Tok::Eof {
            return Err(self.error(format!(
                "found {}, expected the end of the query",
                Self::describe(self.peek())
            )));
        }
        Ok(Query {
            class_name,
            class: self.class,
            unknown_property: self.unknown.take(),
            filter,
        })
    }

    fn or(&mut self, depth: usize) -> Result<Expr, WqlError> {
        let mut e = self.and(depth)?;
        while self.is_kw("OR") {
            self.bump();
            let r = self.and(depth)?;
            e = Expr::Or(Box::new(e), Box::new(r));
        }
        Ok(e)
    }

    fn and(&mut self, depth: usize) -> Result<Expr, WqlError> {
        let mut e = self.not(depth)?;
        while self.is_kw("AND") {
            self.bump();
            let r = self.not(depth)?;
            e = Expr::And(Box::new(e), Box::new(r));
        }
        Ok(e)
    }

    fn not(&mut self, depth: usize) -> Result<Expr, WqlError> {
        if depth >= MAX_DEPTH {
            return Err(self.error(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        if self.is_kw("NOT") {
            self.bump();
            return Ok(Expr::Not(Box::new(self.not(depth + 1)?)));
        }
        if self.peek() == &Tok::LParen {
            self.bump();
            let e = self.or(depth + 1)?;
            if self.peek() != &Tok::RParen {
                return Err(self.error(format!(
                    "found {}, expected `)`",
                    Self::describe(self.peek())
                )));
            }
            self.bump();
            return Ok(e);
        }
        self.comparison()
    }

    fn operand(&mut self) -> Result<Operand, WqlError> {
        let t = self.peek().clone();
        let o = match t {
            Tok::Ident(s) if s.eq_ignore_ascii_case("TRUE") => Operand::Lit(Lit::Bool(true)),
            Tok::Ident(s) if s.eq_ignore_ascii_case("FALSE") => Operand::Lit(Lit::Bool(false)),
            Tok::Ident(s) if !is_keyword(&s) => Operand::Prop(self.resolve(&s)),
            Tok::Str(s) => Operand::Lit(Lit::Str {
                int: parse_int(&s),
                text: s.into_boxed_str(),
            }),
            Tok::Int(n) => Operand::Lit(Lit::Int(n)),
            other => {
                return Err(self.error(format!(
                    "found {}, expected a property name or a value",
                    Self::describe(&other)
                )));
            }
        };
        self.bump();
        Ok(o)
    }

    fn comparison(&mut self) -> Result<Expr, WqlError> {
        let start = self.pos();
        let left = self.operand()?;
        if self.is_kw("IS") {
            self.bump();
            let negated = if self.is_kw("NOT") {
                self.bump();
                true
            } else {
                false
            };
            self.expect_kw("NULL")?;
            return Ok(match left {
                Operand::Prop(Some(_)) => Expr::IsNull { negated },
                Operand::Prop(None) => Expr::Const(false),
                Operand::Lit(_) => Expr::Const(negated),
            });
        }
        let negated_like = if self.is_kw("NOT") {
            self.bump();
            if !self.is_kw("LIKE") {
                return Err(self.error(format!(
                    "found {}, expected LIKE after NOT",
                    Self::describe(self.peek())
                )));
            }
            true
        } else {
            false
        };
        if self.is_kw("LIKE") {
            self.bump();
            let pos = self.pos();
            let right = self.operand()?;
            let pattern = match right {
                Operand::Lit(Lit::Str { text, .. }) => LikePattern::new(&text),
                Operand::Lit(Lit::Int(n)) => LikePattern::new(&n.to_string()),
                _ => {
                    return Err(self.error_at(pos, "LIKE needs a string pattern"));
                }
            };
            let e = match left {
                Operand::Prop(Some(prop)) => Expr::Like { prop, pattern },
                Operand::Prop(None) => Expr::Const(false),
                Operand::Lit(_) => {
                    return Err(self.error_at(start, "LIKE needs a property on its left"));
                }
            };
            return Ok(if negated_like {
                Expr::Not(Box::new(e))
            } else {
                e
            });
        }
        let op = match self.peek() {
            Tok::Op(op) => *op,
            t => {
                return Err(self.error(format!(
                    "found {}, expected a comparison (=, <>, !=, <, >, <=, >=, LIKE, IS)",
                    Self::describe(t)
                )));
            }
        };
        self.bump();
        let right = self.operand()?;
        Ok(match (left, right) {
            (Operand::Prop(Some(prop)), Operand::Lit(lit)) => Expr::Cmp { prop, op, lit },
            (Operand::Lit(lit), Operand::Prop(Some(prop))) => Expr::Cmp {
                prop,
                op: op.flip(),
                lit,
            },
            (Operand::Prop(None), Operand::Lit(_)) | (Operand::Lit(_), Operand::Prop(None)) => {
                Expr::Const(false)
            }
            (Operand::Prop(_), Operand::Prop(_)) => {
                return Err(self.error_at(start, "comparing two properties is not supported"));
            }
            (Operand::Lit(_), Operand::Lit(_)) => {
                return Err(self.error_at(start, "a comparison needs a property on one side"));
            }
        })
    }
}

fn is_keyword(s: &str) -> bool {
    [
        "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "LIKE", "IS", "NULL",
    ]
    .iter()
    .any(|k| k.eq_ignore_ascii_case(s))
}
