//! Mistakes that used to pass silently (issue 15): a bare-number link rate under
//! 1 Mbps is an error with the rate probably meant; site shares that do not add up
//! to 1 and a deadline on an available deployment are located warnings; unknown
//! keys and step names get "did you mean".

use crate::common::*;

const BASE: &str = r#"
[fleet]
clients = 10
[[sites]]
name = "HQ"
share = 0.5
[[sites]]
name = "Branch"
share = 0.5
wan = "100Mbps"
fallback = { after = "0s", distribution_points = ["DP1"] }
[[distribution_points]]
name = "DP1"
site = "HQ"
bandwidth = "1Gbps"
[[content]]
id = "PKG"
kind = "package"
size = "1GB"
[task_sequence]
[[task_sequence.steps]]
type = "download"
name = "Download the package"
content = ["PKG"]
"#;

fn validate(text: &str) -> (Option<i32>, String, String) {
    let (_dir, p) = scenario(text);
    let o = fleetsim(&["validate", p.to_str().unwrap()]);
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn a_bare_rate_under_1_mbps_is_an_error_asking_for_mbps() {
    for (from, to, key) in [
        (
            "bandwidth = \"1Gbps\"",
            "bandwidth = 1000",
            "distribution_points.0.bandwidth",
        ),
        ("wan = \"100Mbps\"", "wan = 100", "sites.1.wan"),
    ] {
        let (code, _, err) = validate(&BASE.replace(from, to));
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains("scenario.toml:"), "located: {err}");
        assert!(err.contains(key), "{err}");
        let n = to.rsplit(' ').next().unwrap();
        assert!(err.contains(&format!("did you mean \"{n}Mbps\"?")), "{err}");
    }
    // With its unit, a slow link is what was meant; a bare 1e9 is 1 Gbps.
    for ok_rate in ["bandwidth = \"512Kbps\"", "bandwidth = 1e9"] {
        let (code, _, err) = validate(&BASE.replace("bandwidth = \"1Gbps\"", ok_rate));
        assert_eq!(code, Some(0), "{ok_rate}: {err}");
    }
}

#[test]
fn shares_not_adding_up_to_one_are_a_located_warning() {
    let (code, out, err) =
        validate(&BASE.replace("share = 0.5\n[[sites]]", "share = 1.5\n[[sites]]"));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("warning: ") && out.contains("scenario.toml:"),
        "{out}"
    );
    assert!(
        out.contains("site shares add up to 2, not 1: they are used as weights, so the sites get 75.0%, 25.0%"),
        "{out}"
    );
    let (_, out, _) = validate(BASE);
    assert!(!out.contains("site shares"), "{out}");
}

#[test]
fn a_deadline_on_an_available_deployment_is_a_warning_and_run_prints_it() {
    let text = format!("{BASE}\n[deployment]\npurpose = \"available\"\ndeadline = \"3d\"\n");
    let (code, out, err) = validate(&text);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("deployment.deadline: an available deployment has no deadline"),
        "{out}"
    );
    let (dir, p) = scenario(&text);
    let o = fleetsim(&[
        "run",
        p.to_str().unwrap(),
        "--out",
        dir.path().join("out").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning: ") && err.contains("has no deadline"),
        "{err}"
    );
    // Required: no warning.
    let text = format!("{BASE}\n[deployment]\npurpose = \"required\"\ndeadline = \"3d\"\n");
    let (_, out, _) = validate(&text);
    assert!(!out.contains("has no deadline"), "{out}");
}

#[test]
fn unknown_keys_and_step_names_get_did_you_mean() {
    let (code, _, err) = validate(&BASE.replace("clients = 10", "clinets = 10"));
    assert_eq!(code, Some(2));
    assert!(err.contains("did you mean \"clients\"?"), "{err}");
    let text = format!(
        "{BASE}\n[[task_sequence.overrides]]\nstep = \"Download the pakage\"\nduration = \"5m\"\n"
    );
    let (code, _, err) = validate(&text);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("no step or group named \"Download the pakage\" in the task sequence; did you mean \"Download the package\"?"),
        "{err}"
    );
}
