//! Conditions: every variable operator and its spellings, numeric vs string
//! comparison, LIKE, nesting, and the simulated OS, registry, folders and software.

use super::wql::machine;
use crate::domain::{Arch, OsVersion};
use crate::tasksequence::cond::{CompiledCondition, Machine, Vars, parse_version};
use crate::tasksequence::tree::{Condition, VarOp};

fn var(name: &str, op: &str, value: &str) -> Condition {
    Condition::Variable {
        variable: name.into(),
        op: VarOp::parse(op).unwrap_or_else(|| panic!("operator {op}")),
        value: value.into(),
    }
}

fn holds(c: &Condition, vars: &[(&str, &str)]) -> bool {
    holds_on(c, &machine(), vars)
}

fn holds_on(c: &Condition, m: &Machine<'_>, vars: &[(&str, &str)]) -> bool {
    CompiledCondition::compile(c)
        .unwrap_or_else(|e| panic!("{c:?}: {e}"))
        .eval(m, &vars)
}

#[test]
fn operator_names_ignore_case() {
    for (text, op) in [
        ("exists", VarOp::Exists),
        ("NOTEXISTS", VarOp::NotExists),
        ("nonExists", VarOp::NotExists),
        ("Equals", VarOp::Equals),
        ("notequals", VarOp::NotEquals),
        ("NOTEQUALS", VarOp::NotEquals),
        ("notEquals", VarOp::NotEquals),
        ("less", VarOp::Less),
        ("lessequal", VarOp::LessEqual),
        ("GREATER", VarOp::Greater),
        ("greaterequal", VarOp::GreaterEqual),
        ("greaterEqual", VarOp::GreaterEqual),
        (" like ", VarOp::Like),
    ] {
        assert_eq!(VarOp::parse(text), Some(op), "{text}");
    }
    assert_eq!(VarOp::parse("approximately"), None);
    assert_eq!(VarOp::parse(""), None);
    for op in VarOp::ALL {
        assert_eq!(VarOp::parse(op.as_str()), Some(op));
    }
}

#[test]
fn every_variable_operator() {
    let v = [("A", "5"), ("S", "beta")];
    assert!(holds(&var("A", "exists", ""), &v));
    assert!(!holds(&var("Missing", "exists", ""), &v));
    assert!(holds(&var("Missing", "notExists", ""), &v));
    assert!(!holds(&var("A", "notexists", ""), &v));
    assert!(holds(&var("A", "equals", "5"), &v));
    assert!(!holds(&var("A", "equals", "6"), &v));
    assert!(holds(&var("A", "NOTEQUALS", "6"), &v));
    assert!(!holds(&var("A", "notequals", "5"), &v));
    assert!(holds(&var("A", "less", "6"), &v) && !holds(&var("A", "less", "5"), &v));
    assert!(holds(&var("A", "lessequal", "5"), &v) && !holds(&var("A", "lessEqual", "4"), &v));
    assert!(holds(&var("A", "greater", "4"), &v) && !holds(&var("A", "greater", "5"), &v));
    assert!(
        holds(&var("A", "greaterequal", "5"), &v) && !holds(&var("A", "greaterEqual", "6"), &v)
    );
    assert!(holds(&var("S", "like", "b%"), &v) && !holds(&var("S", "like", "a%"), &v));
}

#[test]
fn numbers_compare_as_numbers_beyond_i32() {
    // 9 < 10 numerically, though "9" > "10" as text.
    assert!(holds(&var("A", "less", "10"), &[("A", "9")]));
    // The article's assessment condition: 0xC1900210 = 3247440400 exceeds i32.
    let c = var("_SMSTSOSUpgradeActionReturnCode", "notEquals", "3247440400");
    assert!(!holds(
        &c,
        &[("_SMSTSOSUpgradeActionReturnCode", "3247440400")]
    ));
    assert!(holds(
        &c,
        &[("_SMSTSOSUpgradeActionReturnCode", "3247440392")]
    ));
    assert!(holds(
        &var("X", "greater", "3247440399"),
        &[("X", "3247440400")]
    ));
    assert!(holds(&var("X", "less", "0"), &[("X", "-1")]));
    assert!(holds(&var("X", "equals", "007"), &[("X", " 7 ")]));
}

#[test]
fn text_compares_ignoring_case() {
    assert!(holds(
        &var("_SMSTSSetupRollback", "equals", "false"),
        &[("_SMSTSSetupRollback", "FALSE")]
    ));
    assert!(holds(&var("X", "less", "b"), &[("X", "A")]));
    assert!(holds(&var("X", "greater", "10"), &[("X", "9a")]));
    // Names are looked up ignoring case.
    assert!(holds(
        &var("_smstssetuprollback", "equals", "true"),
        &[("_SMSTSSetupRollback", "true")]
    ));
    // An unset variable compares as the empty string.
    assert!(holds(&var("Missing", "equals", ""), &[]));
    assert!(holds(&var("Missing", "notEquals", "0"), &[]));
}

#[test]
fn like_patterns() {
    let v = [("M", "HP EliteBook 840 G5")];
    for (pat, want) in [
        ("%", true),
        ("HP%", true),
        ("hp elitebook%", true),
        ("%840%", true),
        ("HP EliteBook 8_0 G5", true),
        ("HP EliteBook 8_ G5", false),
        ("%G6", false),
        ("HP EliteBook 840 G5%", true),
        ("_P%G_", true),
        ("", false),
    ] {
        assert_eq!(holds(&var("M", "like", pat), &v), want, "{pat}");
    }
    assert!(holds(&var("E", "like", ""), &[("E", "")]));
}

#[test]
fn all_any_none() {
    let t = var("A", "exists", "");
    let f = var("Missing", "exists", "");
    let v = [("A", "1")];
    assert!(holds(&Condition::All(vec![t.clone(), t.clone()]), &v));
    assert!(!holds(&Condition::All(vec![t.clone(), f.clone()]), &v));
    assert!(holds(&Condition::Any(vec![f.clone(), t.clone()]), &v));
    assert!(!holds(&Condition::Any(vec![f.clone(), f.clone()]), &v));
    assert!(holds(&Condition::None(vec![f.clone(), f.clone()]), &v));
    assert!(!holds(&Condition::None(vec![f.clone(), t.clone()]), &v));
    assert!(holds(&Condition::All(vec![]), &v));
    assert!(!holds(&Condition::Any(vec![]), &v));
    let nested = Condition::All(vec![
        Condition::Any(vec![f.clone(), Condition::None(vec![f])]),
        t,
    ]);
    assert!(holds(&nested, &v));
}

#[test]
fn os_version_compares_numerically() {
    let os = |op: &str, v: &str| Condition::OsVersion {
        op: VarOp::parse(op).expect("op"),
        version: v.into(),
    };
    let win7 = machine();
    let win10 = Machine {
        os: OsVersion::Win10,
        ..win7
    };
    assert!(holds_on(&os("less", "10.0"), &win7, &[]));
    assert!(!holds_on(&os("less", "10.0"), &win10, &[]));
    assert!(holds_on(&os("greaterEqual", "10.0"), &win10, &[]));
    assert!(holds_on(&os("equals", "6.1.7601"), &win7, &[]));
    assert!(holds_on(&os("greater", "6.1"), &win7, &[]));
    assert!(holds_on(&os("like", "6.1%"), &win7, &[]));
    assert_eq!(parse_version("10.0.17763"), Some([10, 0, 17763, 0]));
    assert_eq!(parse_version("10..0"), None);
    assert!(CompiledCondition::compile(&os("less", "ten")).is_err());
}

#[test]
fn wql_conditions_and_namespaces() {
    let w = |q: &str, ns: Option<&str>| Condition::Wql {
        query: q.into(),
        namespace: ns.map(str::to_string),
    };
    let q = "SELECT * FROM Win32_OperatingSystem WHERE OSArchitecture = '64-bit'";
    assert!(holds(&w(q, None), &[]));
    assert!(holds(&w(q, Some("root\\cimv2")), &[]));
    assert!(holds(&w(q, Some("\\\\.\\ROOT\\CIMV2")), &[]));
    assert!(!holds(&w(q, Some("root\\wmi")), &[]));
    let err = CompiledCondition::compile(&w("SELECT * FROM", None)).expect_err("syntax");
    assert!(err.contains("position 14"), "{err}");
}

#[test]
fn folders_registry_software_and_files() {
    let m = machine();
    let x86 = Machine {
        arch: Arch::X86,
        ..m
    };
    let folder = |p: &str| Condition::Folder { path: p.into() };
    assert!(holds_on(&folder("C:\\Windows\\System32\\"), &m, &[]));
    assert!(holds_on(&folder("%SystemRoot%"), &m, &[]));
    assert!(holds_on(&folder("%ProgramFiles(x86)%"), &m, &[]));
    assert!(!holds_on(&folder("C:\\Program Files (x86)"), &x86, &[]));
    assert!(!holds_on(&folder("C:\\Temp"), &m, &[]));
    assert!(!holds_on(
        &Condition::File {
            path: "C:\\Windows\\notepad.exe".into()
        },
        &m,
        &[]
    ));
    let reg = |key: &str, name: &str, op: &str, data: &str| Condition::Registry {
        key: key.into(),
        value_name: name.into(),
        op: VarOp::parse(op).expect("op"),
        data: data.into(),
    };
    let cv = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion";
    assert!(holds_on(
        &reg(cv, "CurrentBuild", "equals", "7601"),
        &m,
        &[]
    ));
    assert!(holds_on(
        &reg(cv, "CurrentBuildNumber", "less", "9600"),
        &m,
        &[]
    ));
    assert!(holds_on(
        &reg(
            "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\",
            "currentversion",
            "equals",
            "6.1"
        ),
        &m,
        &[]
    ));
    assert!(holds_on(
        &reg(cv, "CurrentMajorVersionNumber", "notExists", ""),
        &m,
        &[]
    ));
    assert!(holds_on(
        &reg(cv, "CurrentMajorVersionNumber", "equals", "10"),
        &Machine {
            os: OsVersion::Win10,
            ..m
        },
        &[]
    ));
    assert!(holds_on(
        &reg("HKLM\\SOFTWARE\\Microsoft", "", "exists", ""),
        &m,
        &[]
    ));
    assert!(!holds_on(
        &reg("HKLM\\SOFTWARE\\Contoso", "", "exists", ""),
        &m,
        &[]
    ));
    assert!(holds_on(
        &reg("HKLM\\SOFTWARE\\Contoso", "Version", "notExists", ""),
        &m,
        &[]
    ));
    assert!(holds_on(
        &reg(
            "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Nls\\Language",
            "InstallLanguage",
            "equals",
            "0409"
        ),
        &m,
        &[]
    ));
    let sw = Condition::Software {
        product: "{90160000-0011-0000-0000-0000000FF1CE}".into(),
    };
    assert!(!holds_on(&sw, &m, &[]));
    assert!(holds_on(
        &sw,
        &Machine {
            incompatible_app: true,
            ..m
        },
        &[]
    ));
}

#[test]
fn make_model_rules_match_the_model_and_identity_rules_never_do() {
    let m = machine();
    let expr = |props: &[(&str, &str)]| Condition::Expression {
        expr_type: "SMS_TaskSequence_MakeModelConditionExpression".into(),
        properties: props
            .iter()
            .map(|&(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    assert!(holds_on(
        &expr(&[("Make", "dell"), ("Model", "Dell Latitude 7490")]),
        &m,
        &[]
    ));
    assert!(!holds_on(
        &expr(&[("Model", "HP EliteBook 840 G5")]),
        &m,
        &[]
    ));
    assert!(!holds_on(
        &expr(&[("AssetTag", "A1"), ("UUID", "")]),
        &m,
        &[]
    ));
}

#[test]
fn nesting_is_capped() {
    let mut c = var("A", "exists", "");
    for _ in 0..100 {
        c = Condition::None(vec![c]);
    }
    let err = CompiledCondition::compile(&c).expect_err("too deep");
    assert!(err.contains("nested deeper"), "{err}");
}

#[test]
fn vars_for_owned_pairs_are_case_insensitive_and_last_wins() {
    let v: Vec<(String, String)> = vec![
        ("OSDComputerName".into(), "a".into()),
        ("osdcomputername".into(), "b".into()),
    ];
    assert_eq!(Vars::get(&v, "OSDCOMPUTERNAME"), Some("b"));
    assert_eq!(Vars::get(&v, "Other"), None);
}
