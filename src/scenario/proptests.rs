//! Property tests: no input makes the reader panic, and every failure is a non-empty
//! list of located diagnostics.

use std::path::Path;

use proptest::prelude::*;

use super::units::{self, Quantity};
use super::{load_str, warnings};

const BASE: &str = include_str!("../../tests/data/scenarios/good/two-sites-fallback.toml");

/// Lines that stress the readers when spliced into a valid scenario.
const TRICKY: &[&str] = &[
    "",
    "[",
    "[[sites]]",
    "[[distribution_points]]",
    "[fleet]",
    "clients = -1",
    "clients = 1e400",
    "clients = 0x7fffffffffffffffffff",
    "size = \"1e308TB\"",
    "horizon = \"nan\"",
    "horizon = nan",
    "bandwidth = inf",
    "share = -inf",
    "seed = 18446744073709551616",
    "deadline = 1979-05-27T07:32:00Z",
    "user_start = { dist = \"normal\", mean = \"1e300d\", sd = \"1e300d\" }",
    "memory = { dist = \"empirical\", values = [] }",
    "cpu_mhz = { dist = \"empirical\", csv = \"/dev/null\" }",
    "free_disk = { dist = \"uniform\", min = \"5GB\", max = \"1GB\" }",
    "language = { 99999999999 = 1 }",
    "architecture = \"arm64\"",
    "distribution_points = [\"DP-HQ\", \"DP-HQ\", 3]",
    "fallback = 7",
    "site = \"\"",
    "name = \"\"",
    "a.b.c.d = { x = [[[]]] }",
    "task_sequence = []",
    "\u{feff}",
    "é = \"\u{0}\"",
];

fn load(text: &str, overrides: &[String]) {
    let r = load_str(text, Path::new("p.toml"), Path::new("."), overrides);
    match r {
        Ok(s) => {
            let _ = warnings(&s);
        }
        Err(e) => {
            assert!(!e.0.is_empty());
            assert!(e.0.iter().all(|d| !d.message.is_empty()));
        }
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize),
    Duplicate(usize),
    Replace(usize, String),
    Insert(usize, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    let line = prop_oneof![
        proptest::sample::select(TRICKY).prop_map(str::to_string),
        "[ -~]{0,40}",
    ];
    prop_oneof![
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Duplicate),
        (any::<usize>(), line.clone()).prop_map(|(i, l)| Edit::Replace(i, l)),
        (any::<usize>(), line).prop_map(|(i, l)| Edit::Insert(i, l)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for e in edits {
        let n = lines.len().max(1);
        match e {
            Edit::Delete(i) if !lines.is_empty() => {
                lines.remove(i % n);
            }
            Edit::Duplicate(i) if !lines.is_empty() => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            Edit::Replace(i, l) if !lines.is_empty() => lines[i % n] = l.clone(),
            Edit::Insert(i, l) => lines.insert(i % (lines.len() + 1), l.clone()),
            _ => {}
        }
    }
    lines.join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        load(&text, &[]);
    }

    #[test]
    fn mutated_scenarios_never_panic(edits in proptest::collection::vec(edit(), 1..6)) {
        load(&apply(BASE, &edits), &[]);
    }

    #[test]
    fn arbitrary_overrides_never_panic(
        sets in proptest::collection::vec(
            prop_oneof![
                "[a-z_]{1,12}(\\.[a-z0-9_\"]{1,12}){0,3}=[ -~]{0,20}",
                "(fleet|sites|distribution_points|deployment|client|setup)\\.[0-9a-z_.]{0,20}=[ -~]{0,12}",
                "[ -~]{0,30}",
            ],
            0..4,
        )
    ) {
        load(BASE, &sets);
    }

    /// The unit parsers (fuzz target `units`): any text parses to a finite value or
    /// an error that says something; `to_u64` never wraps; a plain decimal is itself
    /// times the bare scale.
    #[test]
    fn units_parse_to_finite_values_or_errors(
        q in proptest::sample::select(vec![
            Quantity::Duration,
            Quantity::Size,
            Quantity::Rate,
            Quantity::Number,
        ]),
        text in prop_oneof![
            "[-+ ]?[0-9_]{0,6}(\\.[0-9]{0,4})?([eE][-+]?[0-9]{1,4})? ?(us|µs|ms|s|sec|m|min|h|d|w|b|kb|MB|GiB|TiB|bps|Kbps|Gbps|Tbps|x)?",
            "\\PC{0,16}",
        ],
    ) {
        match units::parse_str(q, &text) {
            Ok(v) => {
                prop_assert!(v.is_finite());
                if let Ok(n) = units::to_u64(v) {
                    prop_assert!(v >= 0.0 && (n as f64 - v).abs() <= 0.5 + v * 1e-15);
                }
            }
            Err(m) => prop_assert!(!m.is_empty()),
        }
        let t = text.trim();
        let plain = t.bytes().any(|b| b.is_ascii_digit())
            && t.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
        if let (true, Ok(x)) = (plain, t.parse::<f64>()) {
            let want = x * q.bare_scale();
            if want.is_finite() {
                prop_assert_eq!(units::parse_str(q, &text), Ok(want));
            }
        }
    }
}
