//! WQL: parsing, each operator, precedence, LIKE, the simulated classes.

use crate::domain::{Arch, NetType, OsVersion};
use crate::tasksequence::cond::Machine;
use crate::tasksequence::wql::Query;

pub(super) fn machine() -> Machine<'static> {
    Machine {
        arch: Arch::X64,
        language: 1033,
        os: OsVersion::Win7,
        on_battery: false,
        has_battery: true,
        network: NetType::Wired,
        model: "Dell Latitude 7490",
        memory_bytes: 8 << 30,
        free_disk_bytes: 60_000_000_000,
        cpu_mhz: 2400,
        incompatible_app: false,
        incompatible_driver: false,
        third_party_encryption: false,
    }
}

fn q(text: &str, m: &Machine<'_>) -> bool {
    Query::parse(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .eval(m)
}

fn os(filter: &str) -> bool {
    q(
        &format!("SELECT * FROM Win32_OperatingSystem WHERE {filter}"),
        &machine(),
    )
}

#[test]
fn the_articles_precache_query() {
    let text =
        "SELECT * FROM Win32_OperatingSystem WHERE OSArchitecture = '64-bit' AND Locale = '0409'";
    let m = machine();
    assert!(q(text, &m));
    assert!(!q(
        text,
        &Machine {
            arch: Arch::X86,
            ..m
        }
    ));
    assert!(!q(
        text,
        &Machine {
            language: 1031,
            ..m
        }
    ));
    // German: 1031 = 0x0407.
    let de = "select * from win32_operatingsystem where osarchitecture = \"64-bit\" and locale = \"0407\"";
    assert!(q(
        de,
        &Machine {
            language: 1031,
            ..m
        }
    ));
}

#[test]
fn comparison_operators() {
    assert!(os("OSLanguage = 1033"));
    assert!(!os("OSLanguage = 1031"));
    assert!(os("OSLanguage <> 1031"));
    assert!(os("OSLanguage != 1031"));
    assert!(!os("OSLanguage != 1033"));
    assert!(os("OSLanguage < 1034") && !os("OSLanguage < 1033"));
    assert!(os("OSLanguage <= 1033") && !os("OSLanguage <= 1032"));
    assert!(os("OSLanguage > 1032") && !os("OSLanguage > 1033"));
    assert!(os("OSLanguage >= 1033") && !os("OSLanguage >= 1034"));
    // Literal on the left is flipped.
    assert!(os("1034 > OSLanguage"));
    // A number given as a string compares numerically with a numeric property.
    assert!(os("ProductType = '1'"));
    // A string property holding an integer compares numerically with a number.
    assert!(os("BuildNumber > 7600") && !os("BuildNumber > 7601"));
}

#[test]
fn string_comparisons_ignore_case_and_are_lexicographic() {
    assert!(os("OSArchitecture = '64-BIT'"));
    assert!(os("Caption = 'microsoft windows 7 enterprise'"));
    // As on a real client, Version is a string: "6.1.7601" > "10" lexicographically.
    assert!(os("Version >= '10'"));
    assert!(os("Version < '6.2'"));
}

#[test]
fn like_with_percent_and_underscore() {
    assert!(os("OSArchitecture LIKE '%64%'"));
    assert!(!os("OSArchitecture LIKE '%32%'"));
    assert!(os("Version LIKE '6.1%'"));
    assert!(os("Version LIKE '6._.7601'"));
    assert!(!os("Version LIKE '6._.760'"));
    assert!(os("Caption LIKE '%WINDOWS 7%'"));
    assert!(os("Caption NOT LIKE '%Windows 10%'"));
    assert!(os("Version LIKE '%'"));
    assert!(os("OSLanguage LIKE '10%'"));
    assert!(os("Version LIKE '%.%.%'"));
    assert!(!os("Version LIKE '%.%.%.%'"));
}

#[test]
fn and_binds_tighter_than_or_and_not_tighter_than_and() {
    // false AND false OR true = (false AND false) OR true = true
    assert!(os("OSLanguage = 1 AND OSLanguage = 2 OR OSLanguage = 1033"));
    // true OR true AND false = true OR (true AND false) = true
    assert!(os(
        "OSLanguage = 1033 OR OSLanguage = 1033 AND OSLanguage = 2"
    ));
    // NOT true AND false = (NOT true) AND false = false; NOT (true AND false) = true
    assert!(!os("NOT OSLanguage = 1033 AND OSLanguage = 2"));
    assert!(os("NOT (OSLanguage = 1033 AND OSLanguage = 2)"));
    // Parentheses change the grouping.
    assert!(!os(
        "(OSLanguage = 1033 OR OSLanguage = 1) AND OSLanguage = 2"
    ));
    assert!(os("NOT NOT OSLanguage = 1033"));
    assert!(os("((((OSLanguage = 1033))))"));
}

#[test]
fn classes_reflect_the_machine() {
    let m = machine();
    assert!(q("SELECT * FROM Win32_Battery", &m));
    assert!(!q(
        "SELECT * FROM Win32_Battery",
        &Machine {
            has_battery: false,
            ..m
        }
    ));
    assert!(q("SELECT * FROM Win32_Battery WHERE BatteryStatus = 2", &m));
    assert!(q(
        "SELECT * FROM Win32_Battery WHERE BatteryStatus = 1",
        &Machine {
            on_battery: true,
            ..m
        }
    ));
    assert!(q(
        "SELECT Name FROM Win32_ComputerSystemProduct WHERE Name LIKE 'Dell Latitude%'",
        &m
    ));
    assert!(q(
        "SELECT * FROM Win32_ComputerSystem WHERE Manufacturer = 'Dell' AND TotalPhysicalMemory >= 8589934592",
        &m
    ));
    assert!(q(
        "SELECT * FROM Win32_Processor WHERE MaxClockSpeed >= 2000 AND AddressWidth = 64 AND Architecture = 9",
        &m
    ));
    assert!(q(
        "SELECT * FROM Win32_LogicalDisk WHERE DeviceID = 'C:' AND FreeSpace > 50000000000",
        &m
    ));
    let wired = "SELECT * FROM Win32_NetworkAdapter WHERE AdapterType = 'Ethernet 802.3' AND NetConnectionStatus = 2";
    assert!(q(wired, &m));
    assert!(!q(
        wired,
        &Machine {
            network: NetType::Wireless,
            ..m
        }
    ));
    let wifi = "SELECT * FROM Win32_NetworkAdapter WHERE Name LIKE '%Wireless%'";
    assert!(q(
        wifi,
        &Machine {
            network: NetType::Wireless,
            ..m
        }
    ));
    // A VPN client has Wi-Fi and a VPN adapter: true when any instance matches.
    assert!(q(
        wifi,
        &Machine {
            network: NetType::Vpn,
            ..m
        }
    ));
    assert!(q(
        "SELECT * FROM Win32_NetworkAdapterConfiguration WHERE IPEnabled = TRUE",
        &m
    ));
    assert!(q(
        "SELECT * FROM Win32_OperatingSystem WHERE ProductType = 3",
        &Machine {
            os: OsVersion::Server2012R2,
            ..m
        }
    ));
    assert!(q(
        "SELECT * FROM Win32_OperatingSystem WHERE Version LIKE '10.%'",
        &Machine {
            os: OsVersion::Win10,
            ..m
        }
    ));
}

#[test]
fn unknown_class_or_property_returns_nothing() {
    let m = machine();
    let unknown_class = Query::parse("SELECT * FROM Win32_Bios").expect("parses");
    assert!(!unknown_class.class_known());
    assert!(!unknown_class.eval(&m));
    let typo = Query::parse("SELECT * FROM Win32_OperatingSystem WHERE OSArch = '64-bit'")
        .expect("parses");
    assert_eq!(typo.unknown_property(), Some("OSArch"));
    assert!(!typo.eval(&m));
    // Even under NOT or OR, as WMI rejects the whole query.
    assert!(!q(
        "SELECT * FROM Win32_OperatingSystem WHERE NOT Foo = 1",
        &m
    ));
    assert!(!q(
        "SELECT * FROM Win32_OperatingSystem WHERE OSLanguage = 1033 OR Foo = 1",
        &m
    ));
    assert!(!q("SELECT Foo FROM Win32_OperatingSystem", &m));
    assert!(q("SELECT Version, Caption FROM Win32_OperatingSystem", &m));
}

#[test]
fn is_null_and_booleans() {
    assert!(os("Caption IS NOT NULL"));
    assert!(!os("Caption IS NULL"));
    assert!(q(
        "SELECT * FROM Win32_NetworkAdapter WHERE PhysicalAdapter = TRUE AND NetEnabled <> FALSE",
        &machine()
    ));
}

#[test]
fn syntax_errors_give_the_position() {
    let cases = [
        ("SELECT * FROM", 14),
        ("SELEC * FROM Win32_OperatingSystem", 1),
        ("SELECT * FROM Win32_OperatingSystem WHERE", 42),
        (
            "SELECT * FROM Win32_OperatingSystem WHERE Version = '6.1",
            53,
        ),
        (
            "SELECT * FROM Win32_OperatingSystem WHERE (Version = '6.1'",
            59,
        ),
        ("SELECT * FROM Win32_OperatingSystem WHERE Version ~ 1", 51),
        ("SELECT * FROM Win32_OperatingSystem extra", 37),
        (
            "SELECT * FROM Win32_OperatingSystem WHERE Version = Caption",
            43,
        ),
        ("SELECT * FROM Win32_OperatingSystem WHERE 1 = 1", 43),
        (
            "SELECT * FROM Win32_OperatingSystem WHERE '6.1' LIKE Version",
            54,
        ),
        (
            "SELECT * FROM Win32_OperatingSystem WHERE '6.1' LIKE '6%'",
            43,
        ),
        (
            "SELECT * FROM Win32_OperatingSystem WHERE OSLanguage = 1.5",
            56,
        ),
    ];
    for (text, pos) in cases {
        let e = Query::parse(text).expect_err(text);
        assert_eq!(e.position, pos, "{text}: {e}");
        assert!(e.to_string().contains(&format!("position {pos}")));
    }
}

#[test]
fn nesting_is_capped() {
    let ok = format!(
        "SELECT * FROM Win32_OperatingSystem WHERE {}OSLanguage = 1033{}",
        "(".repeat(200),
        ")".repeat(200)
    );
    assert!(q(&ok, &machine()));
    let deep = format!(
        "SELECT * FROM Win32_OperatingSystem WHERE {}OSLanguage = 1033",
        "NOT ".repeat(10_000)
    );
    let e = Query::parse(&deep).expect_err("too deep");
    assert!(e.message.contains("nested deeper"), "{e}");
}
