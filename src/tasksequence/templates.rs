//! Built-in task sequence templates (`template = "..."`).
//!
//! - `win10-inplace-upgrade`: the Create Task Sequence Wizard's Windows 10 in-place
//!   upgrade template (ConfigMgr 1802 and later), exactly as exported in
//!   `shared/domain/ts-examples/upgrade-os-default-template.xml`: the same groups,
//!   steps, conditions, success codes and Check Readiness values. Its Upgrade Operating
//!   System step lists no package: it uses the scenario's OS upgrade package that
//!   matches the client (the export's single package id, `OPC005ED`, stands for that).
//! - `win10-inplace-upgrade-recommended`: the same plus the article's "Additional
//!   recommendations" (`shared/domain/000_f0608c9a7ecd78c6.txt`): Check Readiness with
//!   20480 MB (x64) / 16384 MB (x86) free disk, an inline compatibility assessment
//!   (scan-only Upgrade OS with continue on error, then `cmd /c exit
//!   %_SMSTSOSUpgradeActionReturnCode%` unless it is 3247440400 = 0xC1900210), raised
//!   `SMSTSDownloadRetryCount` / `SMSTSDownloadRetryDelay` for clients off the wired
//!   network, and the remove steps of the Prepare for Upgrade groups (with
//!   `/ReflectDrivers` for third-party disk encryption).
//! - `win11-inplace-upgrade`: the recommended template for a Windows 11 package
//!   (`[[content]] os = "win11"`). Its differences, all in Prepare for Upgrade:
//!   Check Readiness also checks "Computer is in UEFI mode" (ConfigMgr 2010), "TPM
//!   2.0 or above is enabled" and "... is activated" (2111) and asks 4096 MB of
//!   memory (Windows 11's 4 GB) instead of 2048; the sub-groups say "Windows 11"
//!   where the wizard's say "Windows 10"; the task sequence is named "Upgrade
//!   Operating System (Windows 11)". A client without TPM 2.0 or in BIOS mode thus
//!   fails at Check Readiness (4316), before any package is downloaded; the other
//!   requirements (processor, memory, system drive, Secure Boot) are left to the
//!   scan-only assessment, which Setup fails with 0xC1900200
//!   (<https://learn.microsoft.com/mem/configmgr/osd/understand/task-sequence-steps#BKMK_CheckReadiness>).

use super::tree::{
    CheckReadiness, Condition, Node, RemoveWhat, StepKind, TaskSequence, UpgradeOs, VarOp,
};

/// Names accepted by `template = "..."`.
pub const NAMES: &[&str] = &[
    "win10-inplace-upgrade",
    "win10-inplace-upgrade-recommended",
    "win11-inplace-upgrade",
];

/// The Windows 11 template's name, for the checks that need a Windows 11 package.
pub const WIN11: &str = "win11-inplace-upgrade";

/// The template of that name, if it exists.
pub fn by_name(name: &str) -> Option<TaskSequence> {
    match name {
        "win10-inplace-upgrade" => Some(default_template()),
        "win10-inplace-upgrade-recommended" => Some(recommended_template()),
        WIN11 => Some(win11_template()),
        _ => None,
    }
}

fn group(name: &str, description: &str, steps: Vec<Node>) -> Node {
    let mut n = Node::new(name, StepKind::Group { steps });
    n.description = description.to_string();
    n
}

fn var_cond(variable: &str, op: VarOp, value: &str) -> Condition {
    Condition::Variable {
        variable: variable.into(),
        op,
        value: value.into(),
    }
}

fn step(name: &str, kind: StepKind) -> Node {
    let mut n = Node::new(name, kind);
    // The wizard's steps list only 0 as success code.
    n.success_codes = vec![0];
    n
}

fn check_readiness(free_disk_mb: u64) -> Node {
    let mut n = step(
        "Check Readiness for Upgrade",
        StepKind::CheckReadiness(CheckReadiness {
            free_disk_mb: Some(free_disk_mb),
            memory_mb: Some(2048),
            processor_mhz: Some(1024),
            os_type: Some("CLIENT".into()),
            ..CheckReadiness::default()
        }),
    );
    n.description =
        "Check whether the computer is ready for the upgrade of the operating system.".into();
    n
}

fn upgrade_step(name: &str, scan_only: bool) -> Node {
    step(
        name,
        StepKind::UpgradeOs(UpgradeOs {
            content: Vec::new(),
            scan_only,
            ignore_dismissable: false,
            additional_options: None,
            edition_index: 1,
            product_key: None,
            dynamic_update: Some("Disable".into()),
            driver_content: Vec::new(),
        }),
    )
}

/// Post-Processing, Rollback and Run Actions on Failure, as in the export.
fn closing_groups() -> Vec<Node> {
    let mut post = group(
        "Post-Processing",
        "Run tasks after the operating system upgrades and the computer restarts",
        vec![
            group(
                "Apply setup-based drivers",
                "Add steps in this group to install setup-based drivers (.exe) from packages",
                vec![],
            ),
            group(
                "Install/enable third-party security",
                "Add steps in this group to install or enable third-party security programs, such as antivirus",
                vec![],
            ),
            group(
                "Set Windows default apps and associations",
                "Add steps in this group to set Windows default apps and file associations",
                vec![],
            ),
            group(
                "Apply customizations and personalizations",
                "Add steps in this group to apply Start menu customizations, such as organizing program groups",
                vec![],
            ),
        ],
    );
    post.condition = Some(var_cond("_SMSTSSetupRollback", VarOp::Equals, "false"));
    let mut rollback = group(
        "Rollback",
        "Run tasks if the upgrade fails and the operating system rolls back",
        vec![],
    );
    rollback.condition = Some(var_cond("_SMSTSSetupRollback", VarOp::Equals, "true"));
    let mut failure = group(
        "Run Actions on Failure",
        "Run tasks if OS upgrade fails to gather logs and run diagnostic tools",
        vec![
            group(
                "Collect Logs",
                "Save Windows Setup and Task Sequence logs to a Network Share",
                vec![],
            ),
            group("Run Diagnostic Tools", "Run Diagnostic Tools", vec![]),
        ],
    );
    failure.condition = Some(var_cond(
        "_SMSTSOSUpgradeActionReturnCode",
        VarOp::NotEquals,
        "0",
    ));
    vec![post, rollback, failure]
}

fn upgrade_group() -> Node {
    let mut restart = step("Restart Computer", StepKind::Restart { duration: None });
    restart.description = String::new();
    group(
        "Upgrade the Operating System",
        "",
        vec![upgrade_step("Upgrade Operating System", false), restart],
    )
}

/// Steps placed in the Prepare for Upgrade group and its recommended sub-groups.
struct Prepare {
    /// "Windows 10" or "Windows 11", in the sub-groups' descriptions.
    windows: &'static str,
    first: Vec<Node>,
    network: Vec<Node>,
    apps: Vec<Node>,
    drivers: Vec<Node>,
    security: Vec<Node>,
}

/// The Prepare for Upgrade group: the given first steps, then the five sub-groups of
/// the 1802 template (Battery Checks ... Remove/suspend third-party security).
fn prepare_group(p: Prepare) -> Node {
    let mut steps = p.first;
    steps.extend([
        group("Battery Checks", "Add steps in this group to check whether the computer is using battery, or wired power", vec![]),
        group("Network/Wired Connection Checks", "Add steps in this group to check whether the computer is connected to a network, and is not using a wireless connection", p.network),
        group("Remove incompatible applications", &format!("Add steps in this group to remove any applications that are incompatible with this version of {}", p.windows), p.apps),
        group("Remove incompatible drivers", &format!("Add steps in this group to remove any drivers that are incompatible with this version of {}", p.windows), p.drivers),
        group("Remove/suspend third-party security", "Add steps in this group to remove or suspend third-party security programs, such as antivirus", p.security),
    ]);
    group(
        "Prepare for Upgrade",
        "Actions to run in full OS to prepare for upgrade of the operating system.",
        steps,
    )
}

/// The wizard's template, as exported.
pub fn default_template() -> TaskSequence {
    let prepare = prepare_group(Prepare {
        windows: "Windows 10",
        first: vec![check_readiness(25600)],
        network: vec![],
        apps: vec![],
        drivers: vec![],
        security: vec![],
    });
    let mut steps = vec![prepare, upgrade_group()];
    steps.extend(closing_groups());
    TaskSequence {
        name: "Upgrade Operating System".into(),
        variables: Vec::new(),
        steps,
    }
}

/// The wizard's template with the article's additional recommendations.
pub fn recommended_template() -> TaskSequence {
    // 0 = the article's recommendation by architecture (20480 MB x64, 16384 MB x86).
    recommended_for("Windows 10", check_readiness(0))
}

/// The recommended template for a Windows 11 package: Check Readiness with the
/// Windows 11 checks (module docs list every difference).
pub fn win11_template() -> TaskSequence {
    let mut readiness = check_readiness(0);
    if let StepKind::CheckReadiness(c) = &mut readiness.kind {
        c.memory_mb = Some(4096);
        c.uefi = true;
        c.tpm_enabled = true;
        c.tpm_activated = true;
    }
    let mut ts = recommended_for("Windows 11", readiness);
    ts.name = "Upgrade Operating System (Windows 11)".into();
    ts
}

/// The recommended template around the given Check Readiness step.
fn recommended_for(windows: &'static str, readiness: Node) -> TaskSequence {
    let mut assessment = upgrade_step("Upgrade assessment", true);
    assessment.continue_on_error = true;
    let mut exit = step(
        "Fail on compatibility issues",
        StepKind::Run {
            command: Some("cmd /c exit %_SMSTSOSUpgradeActionReturnCode%".into()),
            powershell: false,
            package: None,
            duration: None,
            exit_codes: Vec::new(),
            output_variable: None,
        },
    );
    exit.condition = Some(var_cond(
        "_SMSTSOSUpgradeActionReturnCode",
        VarOp::NotEquals,
        "3247440400",
    ));
    let not_wired = Condition::None(vec![Condition::Wql {
        query: "SELECT * FROM Win32_NetworkAdapter WHERE NetConnectionStatus = 2 AND AdapterType = 'Ethernet 802.3'".into(),
        namespace: None,
    }]);
    let mut retry_count = step(
        "Raise download retries off the wired network",
        StepKind::SetVariable {
            variable: "SMSTSDownloadRetryCount".into(),
            value: "5".into(),
        },
    );
    retry_count.condition = Some(not_wired.clone());
    let mut retry_delay = step(
        "Raise download retry delay off the wired network",
        StepKind::SetVariable {
            variable: "SMSTSDownloadRetryDelay".into(),
            value: "60".into(),
        },
    );
    retry_delay.condition = Some(not_wired);
    let reflect = step(
        "Pass encryption driver to Windows Setup",
        StepKind::SetVariable {
            variable: "OSDSetupAdditionalUpgradeOptions".into(),
            value: "/ReflectDrivers C:\\Drivers\\Encryption".into(),
        },
    );
    let prepare = prepare_group(Prepare {
        windows,
        first: vec![readiness, assessment, exit],
        network: vec![retry_count, retry_delay],
        apps: vec![step(
            "Remove incompatible applications",
            StepKind::Remove {
                what: RemoveWhat::IncompatibleApps,
            },
        )],
        drivers: vec![step(
            "Remove incompatible drivers",
            StepKind::Remove {
                what: RemoveWhat::IncompatibleDrivers,
            },
        )],
        security: vec![
            step(
                "Suspend third-party security",
                StepKind::Remove {
                    what: RemoveWhat::ThirdPartySecurity,
                },
            ),
            reflect,
        ],
    });
    let mut steps = vec![prepare, upgrade_group()];
    steps.extend(closing_groups());
    TaskSequence {
        name: "Upgrade Operating System (recommended)".into(),
        variables: Vec::new(),
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasksequence::xml;

    fn shared(name: &str) -> std::path::PathBuf {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/domain/ts-examples")
            .join(name);
        if p.exists() {
            p
        } else {
            std::path::Path::new("/work/shared/domain/ts-examples").join(name)
        }
    }

    /// Clears what the export has and the template leaves to the scenario: the package
    /// id of the Upgrade OS step and the export's name.
    fn normalise(mut ts: TaskSequence) -> TaskSequence {
        fn walk(nodes: &mut [Node]) {
            for n in nodes {
                match &mut n.kind {
                    StepKind::UpgradeOs(u) => u.content.clear(),
                    StepKind::Group { steps } => walk(steps),
                    _ => {}
                }
            }
        }
        walk(&mut ts.steps);
        ts.name.clear();
        ts
    }

    #[test]
    fn the_default_template_is_the_wizards_export() {
        let imported = xml::import_file(&shared("upgrade-os-default-template.xml"))
            .expect("the export imports");
        assert_eq!(normalise(default_template()), normalise(imported));
    }

    #[test]
    fn the_recommended_template_adds_the_articles_recommendations() {
        let t = recommended_template();
        let text = crate::tasksequence::print::show(&t);
        for want in [
            "Upgrade assessment",
            "cmd /c exit %_SMSTSOSUpgradeActionReturnCode%",
            "3247440400",
            "SMSTSDownloadRetryCount",
            "/ReflectDrivers",
        ] {
            assert!(text.contains(want), "{want} missing from\n{text}");
        }
        let StepKind::Group { steps } = &t.steps[0].kind else {
            panic!("Prepare for Upgrade is a group")
        };
        let StepKind::CheckReadiness(cr) = &steps[0].kind else {
            panic!("Check Readiness first")
        };
        assert_eq!(
            cr.free_disk_mb,
            Some(0),
            "20480 MB x64 / 16384 MB x86, by architecture"
        );
        let StepKind::UpgradeOs(scan) = &steps[1].kind else {
            panic!("assessment second")
        };
        assert!(scan.scan_only && steps[1].continue_on_error);
    }

    /// Every difference the README lists between the two templates, and no other.
    #[test]
    fn the_win11_template_differs_from_the_recommended_one_only_where_documented() {
        let mut w11 = win11_template();
        let w10 = recommended_template();
        assert_eq!(w11.name, "Upgrade Operating System (Windows 11)");
        let StepKind::Group { steps } = &mut w11.steps[0].kind else {
            panic!("Prepare for Upgrade is a group")
        };
        let StepKind::CheckReadiness(cr) = &mut steps[0].kind else {
            panic!("Check Readiness first")
        };
        assert!(cr.uefi && cr.tpm_enabled && cr.tpm_activated);
        assert_eq!(cr.memory_mb, Some(4096));
        // Undo the documented differences: what is left is the recommended template.
        cr.uefi = false;
        cr.tpm_enabled = false;
        cr.tpm_activated = false;
        cr.memory_mb = Some(2048);
        for n in steps.iter_mut() {
            n.description = n.description.replace("Windows 11", "Windows 10");
        }
        w11.name = w10.name.clone();
        assert_eq!(w11, w10);
    }
}
