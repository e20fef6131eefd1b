//! Peer content (issue 18): the `[[sites]]` keys `subnets`, `branchcache` and
//! `peer_cache`, and what `validate` says about them.

use crate::common::*;

/// One branch without a DP of its own, reaching the HQ DP over its WAN link; `extra`
/// goes into the branch's `[[sites]]` table, `size` is the package size.
fn branch(clients: u64, extra: &str, size: &str) -> String {
    one_download(
        clients,
        "{ wired = 1.0 }",
        "wired = \"100Mbps\"",
        &format!(
            r#"
[[sites]]
name = "HQ"
share = 0.0
distribution_points = ["DP1"]
[[sites]]
name = "Branch"
share = 1.0
wan = "100Mbps"
distribution_points = []
fallback = {{ after = "0s", distribution_points = ["DP1"] }}
{extra}
[[distribution_points]]
name = "DP1"
site = "HQ"
bandwidth = "10Gbps"
"#
        ),
        size,
    )
}

fn validate(text: &str) -> (Option<i32>, String) {
    let (_dir, p) = scenario(text);
    let o = fleetsim(&["validate", p.to_str().unwrap()]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code(), all)
}

#[test]
fn validate_describes_the_peer_keys() {
    let (code, out) = validate(&branch(
        10,
        "subnets = 4\nbranchcache = true\npeer_cache = { sources = 0.2, max_connections = 3 }",
        "10MB",
    ));
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(
            "4 subnets, BranchCache, peer cache sources: 20.0% of clients, 3 connections each"
        ),
        "{out}"
    );
}

#[test]
fn bad_peer_values_are_located_errors() {
    let (code, out) = validate(&branch(
        10,
        "subnets = 0\npeer_cache = { sources = [3, 12] }",
        "10MB",
    ));
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("sites.1.subnets: found 0, expected an integer from 1"),
        "{out}"
    );
    assert!(
        out.contains("sites.1.peer_cache.sources.1: client 12 does not exist, expected a client id from 0 to 9"),
        "{out}"
    );
}

/// "a 6 GB package does not fit a 5,120 MB cache" (issue 18).
#[test]
fn content_larger_than_the_cache_cannot_be_held_by_a_peer_cache_source() {
    let (code, out) = validate(&branch(10, "peer_cache = { sources = 0.1 }", "6GB"));
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(
            "content \"PKG\" (6 GB) does not fit a 5120 MB client cache (client.cache_size): \
             peer cache sources of \"Branch\" cannot hold it"
        ),
        "{out}"
    );
    let (_, out) = validate(&branch(10, "peer_cache = { sources = 0.1 }", "5GB"));
    assert!(!out.contains("does not fit"), "{out}");
}

#[test]
fn delivery_optimization_and_connected_cache_are_told_they_do_not_apply() {
    let (code, out) = validate(&branch(
        10,
        "delivery_optimization = true\nconnected_cache = { enabled = true }",
        "10MB",
    ));
    assert_eq!(code, Some(0), "{out}");
    for what in ["Delivery Optimization", "Microsoft Connected Cache"] {
        assert!(
            out.contains(&format!(
                "{what} does not serve the packages of a ConfigMgr task sequence"
            )),
            "{out}"
        );
    }
}

/// Until peers are simulated, `run` says so too (not only `validate`), and says
/// nothing when no site asks for peers.
#[test]
fn run_says_peers_are_not_simulated_yet() {
    let warning = "read and checked but not simulated";
    for (extra, told) in [("branchcache = true", true), ("", false)] {
        let (dir, p) = scenario(&branch(10, extra, "10MB"));
        let out = dir.path().join("out");
        let o = fleetsim(&["run", p.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{err}");
        assert_eq!(err.contains(warning), told, "{extra:?}: {err}");
    }
}
