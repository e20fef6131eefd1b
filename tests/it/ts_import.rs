//! `fleetsim ts import` on the shipped example export: the inline form plus a
//! `[[content]]` entry per referenced package, usable as a scenario once sizes are
//! written; a file that is not XML is refused with a clear error.

use crate::common::*;

const EXPORT: &str = "scenarios/exports/branch-upgrade.xml";

#[test]
fn import_prints_content_entries_for_every_referenced_package() {
    let xml = repo().join(EXPORT);
    let out = ok(&["ts", "import", xml.to_str().unwrap()]);
    for (id, kind) in [
        ("FSM00030", "package"),
        ("FSM00010", "os_upgrade"),
        ("FSM00020", "driver"),
    ] {
        assert!(
            out.contains(&format!("[[content]]\nid = \"{id}\"\nkind = \"{kind}\"")),
            "{id}: {out}"
        );
    }
    assert_eq!(out.matches("[[content]]").count(), 3, "{out}");
    // With sizes written, the output is a working scenario's task sequence.
    let text = format!(
        "[fleet]\nclients = 50\n[[distribution_points]]\nname = \"DP1\"\nbandwidth = \"1Gbps\"\n{}",
        out.replace("# size = ?", "size = \"1GB\"")
    );
    let (dir, sc) = scenario(&text);
    ok(&[
        "run",
        sc.to_str().unwrap(),
        "--quiet",
        "--out",
        dir.path().join("out").to_str().unwrap(),
    ]);
}

#[test]
fn the_example_export_is_used_by_path_from_a_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().join("exports");
    std::fs::create_dir(&exports).unwrap();
    std::fs::copy(repo().join(EXPORT), exports.join("branch-upgrade.xml")).unwrap();
    let sc = dir.path().join("s.toml");
    std::fs::write(
        &sc,
        "[fleet]\nclients = 20\n[[distribution_points]]\nname = \"DP1\"\nbandwidth = \"1Gbps\"\n\
         [[content]]\nid = \"FSM00010\"\nkind = \"os_upgrade\"\nsize = \"3GB\"\n\
         [[content]]\nid = \"FSM00020\"\nkind = \"driver\"\nsize = \"500MB\"\n\
         [[content]]\nid = \"FSM00030\"\nkind = \"package\"\nsize = \"100MB\"\n\
         [task_sequence]\nxml = \"exports/branch-upgrade.xml\"\n",
    )
    .unwrap();
    let out = ok(&["validate", sc.to_str().unwrap()]);
    assert!(out.ends_with("ok\n"), "{out}");
}

#[test]
fn a_file_that_is_not_xml_is_refused_clearly() {
    let sc = repo().join("scenarios/quickstart.toml");
    let o = fleetsim(&["ts", "import", sc.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("quickstart.toml:1:1: not an XML file"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
}
