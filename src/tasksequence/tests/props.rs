//! Property tests: no input makes the readers, WQL or conditions panic; every tree the
//! inline reader can produce prints back to itself; `LIKE` agrees with a plain
//! recursive reference.

use proptest::prelude::*;

use super::*;
use crate::domain::{Arch, Dist, NetType, OsVersion, UpdatesMode};
use crate::tasksequence::cond::{CompiledCondition, Machine};
use crate::tasksequence::expand::{cmd_exit_code, expand};
use crate::tasksequence::tree::{
    CheckReadiness, Condition, Node, RemoveWhat, StepKind, UpgradeOs, VarOp,
};
use crate::tasksequence::wql::Query;
use crate::tasksequence::{lint, print, xml};

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z0-9_ %.'\"*=<>()-]{0,12}",
        1 => any::<String>(),
    ]
}

fn op() -> impl Strategy<Value = VarOp> {
    prop::sample::select(VarOp::ALL.to_vec())
}

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::btree_map(text(), text(), 0..4).prop_map(|m| m.into_iter().collect())
}

fn condition() -> impl Strategy<Value = Condition> {
    let wql = prop_oneof![
        text(),
        Just("SELECT * FROM Win32_OperatingSystem WHERE OSArchitecture LIKE '%64%'".to_string()),
        Just(
            "select * from win32_battery where batterystatus = 2 or not (1 < BatteryStatus)"
                .to_string()
        ),
    ];
    let leaf = prop_oneof![
        (text(), op(), text()).prop_map(|(variable, op, value)| Condition::Variable {
            variable,
            op,
            value
        }),
        (wql, prop::option::of(text()))
            .prop_map(|(query, namespace)| Condition::Wql { query, namespace }),
        (op(), prop_oneof![text(), "[0-9]{1,3}(\\.[0-9]{1,5}){0,3}"])
            .prop_map(|(op, version)| Condition::OsVersion { op, version }),
        text().prop_map(|path| Condition::File { path }),
        text().prop_map(|path| Condition::Folder { path }),
        (text(), text(), op(), text()).prop_map(|(key, value_name, op, data)| {
            Condition::Registry {
                key,
                value_name,
                op,
                data,
            }
        }),
        text().prop_map(|product| Condition::Software { product }),
        (text(), pairs()).prop_map(|(expr_type, properties)| Condition::Expression {
            expr_type,
            properties
        }),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Condition::All),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Condition::Any),
            prop::collection::vec(inner, 0..4).prop_map(Condition::None),
        ]
    })
}

fn machine_parts() -> impl Strategy<Value = (u8, u32, u8, [bool; 6], u8, String, u64, u64, u32)> {
    (
        any::<u8>(),
        any::<u32>(),
        0u8..5,
        any::<[bool; 6]>(),
        0u8..3,
        text(),
        any::<u64>(),
        any::<u64>(),
        any::<u32>(),
    )
}

fn machine_of<'a>(p: &'a (u8, u32, u8, [bool; 6], u8, String, u64, u64, u32)) -> Machine<'a> {
    let (arch, language, os, flags, net, model, memory, disk, mhz) = p;
    Machine {
        arch: if arch % 2 == 0 { Arch::X64 } else { Arch::X86 },
        language: *language,
        os: [
            OsVersion::Win7,
            OsVersion::Win81,
            OsVersion::Win10,
            OsVersion::Server2012,
            OsVersion::Server2012R2,
        ][usize::from(*os % 5)],
        on_battery: flags[0],
        has_battery: flags[1],
        network: [NetType::Wired, NetType::Wireless, NetType::Vpn][usize::from(*net % 3)],
        model,
        memory_bytes: *memory,
        free_disk_bytes: *disk,
        cpu_mhz: *mhz,
        incompatible_app: flags[2],
        incompatible_driver: flags[3],
        third_party_encryption: flags[4],
    }
}

fn us() -> impl Strategy<Value = f64> {
    prop_oneof![
        (0u64..10_000).prop_map(|s| s as f64 * 1e6),
        (0.0f64..1e12),
        (0.0f64..1e300),
    ]
}

fn dist() -> impl Strategy<Value = Dist> {
    prop_oneof![
        us().prop_map(Dist::Fixed),
        (us(), us()).prop_map(|(a, b)| Dist::Uniform {
            min: a.min(b),
            max: a.max(b)
        }),
        us().prop_filter("positive", |m| *m > 0.0)
            .prop_map(|mean| Dist::Exponential { mean }),
        (
            us(),
            us(),
            prop::option::of(-1e9f64..1e9),
            prop::option::of(us())
        )
            .prop_map(|(mean, sd, min, max)| Dist::Normal { mean, sd, min, max }),
        (us().prop_filter("positive", |m| *m > 0.0), 0.0f64..10.0)
            .prop_map(|(median, sigma)| Dist::LogNormal { median, sigma }),
        prop::collection::vec(us(), 1..5).prop_map(|values| Dist::Empirical { values }),
    ]
}

fn ids() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(text(), 0..3)
}

fn exit_codes() -> impl Strategy<Value = Vec<(i64, f64)>> {
    prop::collection::btree_map(any::<i64>(), 0.0f64..1.0, 0..4).prop_map(|m| {
        let mut v: Vec<(i64, f64)> = m.into_iter().collect();
        if let Some(first) = v.first_mut() {
            first.1 += 1.0;
        }
        v
    })
}

fn leaf_kind() -> impl Strategy<Value = StepKind> {
    let readiness = (
        prop::option::of(0u64..1_000_000_000),
        prop::option::of(1u64..1_000_000_000),
        prop::option::of(any::<u64>()),
        any::<[bool; 6]>(),
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(any::<u32>()),
    )
        .prop_map(|(free, memory, mhz, b, os_type, os_arch, lang)| {
            StepKind::CheckReadiness(CheckReadiness {
                free_disk_mb: free,
                memory_mb: memory,
                processor_mhz: mhz,
                require_ac: b[0],
                require_wired: b[1],
                require_network: b[2],
                os_type,
                os_architecture: os_arch,
                os_language: lang,
                uefi: b[3],
                tpm_enabled: b[4],
                tpm_activated: b[5],
            })
        });
    let upgrade = (
        ids(),
        any::<[bool; 2]>(),
        prop::option::of(text()),
        any::<u32>(),
        prop::option::of(text()),
        prop::option::of(text()),
        ids(),
    )
        .prop_map(|(content, b, options, edition, key, dynamic, drivers)| {
            StepKind::UpgradeOs(UpgradeOs {
                content,
                scan_only: b[0],
                ignore_dismissable: b[1],
                additional_options: options,
                edition_index: edition,
                product_key: key,
                dynamic_update: dynamic,
                driver_content: drivers,
            })
        });
    let run = (
        prop::option::of(text()),
        any::<bool>(),
        prop::option::of(text()),
        prop::option::of(dist()),
        exit_codes(),
        prop::option::of(text()),
    )
        .prop_map(
            |(command, powershell, package, duration, exit_codes, output_variable)| StepKind::Run {
                command,
                powershell,
                package,
                duration,
                exit_codes,
                output_variable,
            },
        );
    prop_oneof![
        (ids(), prop::option::of(text()))
            .prop_map(|(content, variable)| StepKind::Download { content, variable }),
        run,
        readiness,
        (text(), text()).prop_map(|(variable, value)| StepKind::SetVariable { variable, value }),
        prop::collection::vec((prop::option::of(condition()), pairs()), 0..3)
            .prop_map(|rules| StepKind::SetDynamicVariables { rules }),
        upgrade,
        (ids(), any::<bool>()).prop_map(|(applications, c)| StepKind::InstallApplications {
            applications,
            continue_on_error_per_app: c
        }),
        (text(), text())
            .prop_map(|(package, program)| StepKind::InstallPackage { package, program }),
        prop::sample::select(vec![
            UpdatesMode::Required,
            UpdatesMode::All,
            UpdatesMode::None
        ])
        .prop_map(|mode| StepKind::InstallUpdates { mode }),
        prop::option::of(dist()).prop_map(|duration| StepKind::Restart { duration }),
        prop::sample::select(vec![
            RemoveWhat::IncompatibleApps,
            RemoveWhat::IncompatibleDrivers,
            RemoveWhat::ThirdPartySecurity
        ])
        .prop_map(|what| StepKind::Remove { what }),
        (text(), prop::option::of(dist()), pairs()).prop_map(
            |(step_type, duration, properties)| StepKind::Timed {
                step_type,
                duration,
                properties
            }
        ),
    ]
}

fn with_options(kind: StepKind) -> impl Strategy<Value = Node> {
    (
        text(),
        text(),
        prop::option::of(condition()),
        any::<[bool; 2]>(),
        0..=crate::tasksequence::tree::MAX_RETRY_COUNT,
        prop::collection::vec(any::<i64>(), 0..4),
    )
        .prop_map(
            move |(name, description, condition, b, retry_count, success_codes)| Node {
                name,
                description,
                condition,
                continue_on_error: b[0],
                disabled: b[1],
                retry_count,
                success_codes,
                kind: kind.clone(),
            },
        )
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = leaf_kind().prop_flat_map(with_options);
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|steps| StepKind::Group { steps }),
            (text(), prop::collection::vec(inner, 0..3))
                .prop_map(|(package, steps)| StepKind::SubTaskSequence { package, steps }),
        ]
        .prop_flat_map(with_options)
    })
}

fn task_sequence() -> impl Strategy<Value = TaskSequence> {
    (text(), pairs(), prop::collection::vec(node(), 0..4)).prop_map(|(name, variables, steps)| {
        TaskSequence {
            name,
            variables,
            steps,
        }
    })
}

/// The obvious exponential matcher, as the reference for `LIKE`.
fn like_reference(p: &[char], s: &[char]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some(('%', rest)) => (0..=s.len()).any(|i| like_reference(rest, &s[i..])),
        Some((c, rest)) => match s.split_first() {
            Some((d, srest)) => {
                (*c == '_' || c.to_lowercase().eq(d.to_lowercase())) && like_reference(rest, srest)
            }
            None => false,
        },
    }
}

/// `%VAR%` expansion by the obvious scan, one character at a time.
fn expand_reference(s: &str, vars: &[(String, String)]) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(len) = chars[i..].iter().position(|&x| x == '%') else {
            out.push('%');
            out.extend(&chars[i..]);
            break;
        };
        let name: String = chars[i..i + len].iter().collect();
        i += len + 1;
        let value = vars
            .iter()
            .rev()
            .find(|(k, _)| !name.is_empty() && k.eq_ignore_ascii_case(&name));
        match value {
            Some((_, v)) => out.push_str(v),
            None => out.push_str(&format!("%{name}%")),
        }
    }
    out
}

fn mutate(text: &str, edits: &[(usize, usize, u8, String)]) -> String {
    let mut s: Vec<char> = text.chars().collect();
    for (at, len, kind, insert) in edits {
        if s.is_empty() {
            break;
        }
        let at = at % s.len();
        let end = (at + len % 64).min(s.len());
        match kind % 3 {
            0 => {
                s.drain(at..end);
            }
            1 => {
                let piece: Vec<char> = s[at..end].to_vec();
                s.splice(at..at, piece);
            }
            _ => {
                s.splice(at..at, insert.chars());
            }
        }
    }
    s.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn wql_never_panics(q in prop_oneof![any::<String>(), "(SELECT|select|\\*|FROM|Win32_OperatingSystem|WHERE|NOT|AND|OR|LIKE|IS|NULL|\\(|\\)|'[a-z%_]*'|\"x\"|[0-9-]{1,5}|=|<>|<=|>=|!=|<|>|,| ){0,24}"], p in machine_parts()) {
        if let Ok(parsed) = Query::parse(&q) {
            let _ = parsed.eval(&machine_of(&p));
        }
    }

    #[test]
    fn conditions_never_panic(c in condition(), p in machine_parts(), vars in pairs()) {
        if let Ok(compiled) = CompiledCondition::compile(&c) {
            let _ = compiled.eval(&machine_of(&p), &vars);
        }
        let _ = print::describe_condition(&c);
    }

    #[test]
    fn like_agrees_with_the_reference(p in "[ab%_]{0,6}", s in "[abAB]{0,8}") {
        let c = Condition::Variable { variable: "v".into(), op: VarOp::Like, value: p.clone() };
        let compiled = CompiledCondition::compile(&c).expect("compiles");
        let got = compiled.eval(&machine_of(&(0, 1033, 0, [false; 6], 0, String::new(), 0, 0, 0)), &[("v", s.as_str())]);
        let pc: Vec<char> = p.chars().collect();
        let sc: Vec<char> = s.chars().collect();
        prop_assert_eq!(got, like_reference(&pc, &sc));
    }

    #[test]
    fn expand_and_cmd_never_panic(s in any::<String>(), vars in pairs()) {
        let _ = expand(&s, &vars);
        let _ = cmd_exit_code(&s);
    }

    /// As the fuzz target `expand` checks: expansion agrees with a plain reference,
    /// and leaves text alone when no variable is set.
    #[test]
    fn expand_agrees_with_the_reference(
        s in "([a-zA-Z_ %]|%[a-zA-Z_]{0,3}%){0,12}",
        vars in prop::collection::vec(("[a-zA-Z_]{0,3}", "[a-z%]{0,3}"), 0..4),
    ) {
        let none: Vec<(String, String)> = Vec::new();
        prop_assert_eq!(expand(&s, &none), s.clone());
        prop_assert_eq!(expand(&s, &vars), expand_reference(&s, &vars));
        if let Some(code) = cmd_exit_code(&s) {
            prop_assert!((i64::from(i32::MIN)..=i64::from(u32::MAX)).contains(&code));
        }
    }

    /// `none` of a list is the negation of `any` of it (fuzz target `condition`).
    #[test]
    fn none_is_not_any(
        kids in prop::collection::vec(condition(), 0..4),
        p in machine_parts(),
        vars in pairs(),
    ) {
        let any = CompiledCondition::compile(&Condition::Any(kids.clone()));
        let none = CompiledCondition::compile(&Condition::None(kids));
        if let (Ok(any), Ok(none)) = (any, none) {
            let m = machine_of(&p);
            prop_assert_eq!(any.eval(&m, &vars), !none.eval(&m, &vars));
        }
    }

    #[test]
    fn import_never_panics_on_arbitrary_text(s in any::<String>()) {
        let _ = xml::import_str(&s, Path::new("fuzz.xml"));
        let wrapped = format!("<sequence><group name=\"g\">{s}</group></sequence>");
        let _ = xml::import_str(&wrapped, Path::new("fuzz.xml"));
    }

    #[test]
    fn mutated_examples_import_or_fail_cleanly_and_round_trip(
        which in 0usize..3,
        edits in prop::collection::vec((any::<usize>(), any::<usize>(), any::<u8>(), "[<>/\"= a-z&;]{0,8}"), 1..4),
    ) {
        let original = std::fs::read_to_string(example(EXAMPLES[which])).expect("example");
        let text = mutate(&original, &edits);
        match xml::import_str(&text, Path::new("mutated.xml")) {
            Ok(ts) => {
                let _ = print::show(&ts);
                let _ = lint::lint(&ts, &[]);
                let toml = inline::to_toml(&ts);
                let back = parse_inline(&toml);
                prop_assert_eq!(back.as_ref().ok(), Some(&ts), "{:?}\n{}", back.as_ref().err(), toml);
            }
            Err(e) => prop_assert!(e.0.iter().all(|d| d.line >= 1)),
        }
    }

    #[test]
    fn every_readable_tree_prints_back_to_itself(ts in task_sequence()) {
        let toml = inline::to_toml(&ts);
        let back = parse_inline(&toml);
        prop_assert_eq!(back.as_ref().ok(), Some(&ts), "{:?}\n{}", back.as_ref().err(), toml);
        let _ = print::show(&ts);
        let _ = lint::lint(&ts, &["A"]);
    }
}
