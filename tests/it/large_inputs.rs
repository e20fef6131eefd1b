//! Readers take time linear in the size of their input, also when it is huge or
//! full of errors: each shape below once took seconds to minutes at 100,000 items
//! (a scan per item: duplicate checks, name lookups, locating each diagnostic from
//! the top of the file, messages listing every defined name).
//!
//! Each shape is read at `n` and `4n` items; a linear reader takes about 4 times as
//! long, a quadratic one 16. The bound (10 times, plus half a second for noise on a
//! shared machine) only bites where the quadratic part dominates, i.e. with
//! optimisations on: `cargo test --release` uses 25,000 items, a debug build 2,000
//! (there the test only proves that such inputs are read at all).

use std::path::Path;
use std::time::{Duration, Instant};

use fleetsim::scenario;
use fleetsim::tasksequence::xml;

const HEAD: &str = "[fleet]\nclients = 100\n\n[[distribution_points]]\nname = \"DP1\"\n\
                    bandwidth = \"1Gbps\"\n\n[[content]]\nid = \"OSUPG-X64-1033\"\n\
                    kind = \"os_upgrade\"\nsize = \"3.2GB\"\narchitecture = \"x64\"\n\
                    language = 1033\n";

const TEMPLATE: &str = "[task_sequence]\ntemplate = \"win10-inplace-upgrade\"\n";

/// A named input shape: its text for `n` items.
type Shape = (&'static str, fn(usize) -> String);

fn items(n: usize, f: impl Fn(usize) -> String) -> String {
    (0..n).map(f).collect()
}

/// The scenario shapes.
fn scenarios() -> Vec<Shape> {
    vec![
        ("unknown keys", |n| {
            let keys = items(n, |i| format!("k{i} = 1\n"));
            format!("{HEAD}{TEMPLATE}[setup]\n{keys}")
        }),
        ("content referenced by one step", |n| {
            let content = items(n, |i| {
                format!("[[content]]\nid = \"C{i}\"\nkind = \"application\"\nsize = \"1MB\"\n")
            });
            let ids: Vec<String> = (0..n).map(|i| format!("\"C{i}\"")).collect();
            format!(
                "{HEAD}{content}[task_sequence]\n[[task_sequence.steps]]\n\
                 type = \"install_applications\"\nname = \"Apps\"\napplications = [{}]\n",
                ids.join(",")
            )
        }),
        ("references to undefined content", |n| {
            let ids: Vec<String> = (0..n).map(|i| format!("\"NOPE{i}\"")).collect();
            format!(
                "{HEAD}[task_sequence]\n[[task_sequence.steps]]\n\
                 type = \"download\"\nname = \"Get\"\ncontent = [{}]\n",
                ids.join(",")
            )
        }),
        ("sites and distribution points", |n| {
            let dps = items(n, |i| {
                format!(
                    "[[distribution_points]]\nname = \"D{i}\"\nsite = \"S{}\"\n\
                     bandwidth = \"1Gbps\"\n",
                    i % 100
                )
            });
            let sites = items(100, |s| {
                let listed: Vec<String> =
                    (s..n).step_by(100).map(|i| format!("\"D{i}\"")).collect();
                format!(
                    "[[sites]]\nname = \"S{s}\"\ndistribution_points = [{}, \"NOPE\"]\n",
                    listed.join(",")
                )
            });
            format!("{HEAD}{TEMPLATE}{dps}{sites}")
        }),
        ("language weights", |n| {
            let langs: Vec<String> = (0..n).map(|i| format!("{} = 1", 2000 + i)).collect();
            HEAD.replace(
                "clients = 100\n",
                &format!("clients = 100\nlanguage = {{ {} }}\n", langs.join(", ")),
            ) + TEMPLATE
        }),
    ]
}

/// The XML shapes.
fn exports() -> Vec<Shape> {
    vec![
        ("variables and properties", |n| {
            let vars = items(n, |i| format!("<variable name=\"V{i}\">x</variable>"));
            let props = items(n, |i| {
                format!("<variable name=\"P{i}\" property=\"P{i}\">x</variable>")
            });
            format!(
                "<sequence><globalVarList>{vars}</globalVarList>\
                 <step type=\"SMS_TaskSequence_OtherAction\" name=\"S\">\
                 <defaultVarList>{props}</defaultVarList>\
                 <condition><expression type=\"Other\">{vars}</expression></condition>\
                 </step></sequence>"
            )
        }),
        ("steps without names", |n| {
            let steps = items(n, |_| {
                "<step type=\"SMS_TaskSequence_RebootAction\"/>\n".into()
            });
            format!("<sequence>\n{steps}</sequence>\n")
        }),
    ]
}

/// The faster of two runs.
fn time(f: &dyn Fn()) -> Duration {
    (0..2)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn assert_linear(name: &str, read: &dyn Fn(usize)) {
    let n = if cfg!(debug_assertions) {
        2_000
    } else {
        25_000
    };
    let small = time(&|| read(n));
    let large = time(&|| read(4 * n));
    let bound = small * 10 + Duration::from_millis(500);
    assert!(
        large <= bound,
        "{name}: {n} items took {small:?}, {} took {large:?} (more than {bound:?}): \
         not linear",
        4 * n
    );
}

#[test]
fn scenarios_are_read_in_linear_time() {
    for (name, text) in scenarios() {
        assert_linear(name, &|n| {
            let t = text(n);
            let r = scenario::load_str(&t, Path::new("big.toml"), Path::new("."), &[]);
            if let Ok(s) = &r {
                let _ = scenario::warnings(s);
            }
            let lines = t.lines().count();
            if let Err(e) = r {
                assert!(e.0.iter().all(|d| (1..=lines + 1).contains(&d.line)));
            }
        });
    }
}

#[test]
fn exports_are_read_in_linear_time() {
    for (name, text) in exports() {
        assert_linear(name, &|n| {
            if let Ok(ts) = xml::import_str(&text(n), Path::new("big.xml")) {
                let _ = fleetsim::tasksequence::lint::lint(&ts, &[]);
            }
        });
    }
}

#[test]
fn a_message_lists_a_bounded_number_of_names() {
    // 1,000 DPs (and DP1) defined, one site lists an undefined one.
    let sites = scenarios()[3].1(1_000);
    // 1,000 content items (and the OS package) defined, one reference is undefined.
    let content = scenarios()[1].1(1_000).replace("[\"C0\",", "[\"NOPE\",");
    for text in [sites, content] {
        let e = scenario::load_str(&text, Path::new("s.toml"), Path::new("."), &[])
            .expect_err("an undefined name");
        // Other checks may fire too (1,001 DPs make bandwidth.csv too long at the
        // default interval); the undefined-name message is the one under test.
        let msg =
            &e.0.iter()
                .find(|d| d.message.contains("defined"))
                .unwrap_or_else(|| panic!("no undefined-name error in {e}"))
                .message;
        assert!(msg.contains(" and 981 more"), "{msg}");
        assert!(msg.len() < 1_000, "{} characters", msg.len());
    }
}
