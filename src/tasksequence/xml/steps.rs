//! Step types of an export: each `<step type="...">` with its `<defaultVarList>` of
//! `<variable name="OSD..." property="...">value</variable>` becomes a [`StepKind`].
//!
//! Properties are looked up by their `property` attribute (falling back to the
//! variable name), ignoring case. Types the simulator does not model become
//! [`StepKind::Timed`] with every property kept (a property that repeats keeps its
//! first value, so that the TOML form, which cannot repeat keys, round-trips).

use roxmltree::Node as XNode;

use super::{Assignments, Src, condition, first_of_each};
use crate::diag::{Diagnostic, LineIndex};
use crate::domain::UpdatesMode;
use crate::tasksequence::tree::{CheckReadiness, Rule, StepKind, UpgradeOs};

/// One `<variable>` of a `<defaultVarList>`.
struct Prop<'a, 'i> {
    node: XNode<'a, 'i>,
    property: &'a str,
    name: &'a str,
    value: &'a str,
}

struct Props<'a, 'i>(Vec<Prop<'a, 'i>>);

impl<'a, 'i> Props<'a, 'i> {
    fn of(step: XNode<'a, 'i>) -> Self {
        let list = step
            .children()
            .filter(|n| n.has_tag_name("defaultVarList"))
            .flat_map(|l| l.children().filter(|n| n.has_tag_name("variable")));
        Props(
            list.map(|node| Prop {
                node,
                property: node.attribute("property").unwrap_or_default(),
                name: node.attribute("name").unwrap_or_default(),
                value: node.text().unwrap_or_default(),
            })
            .collect(),
        )
    }

    fn find(&self, names: &[&str]) -> Option<&Prop<'a, 'i>> {
        self.0.iter().find(|p| {
            names
                .iter()
                .any(|n| p.property.eq_ignore_ascii_case(n) || p.name.eq_ignore_ascii_case(n))
        })
    }

    fn get(&self, name: &str) -> Option<&'a str> {
        self.find(&[name]).map(|p| p.value)
    }

    /// The value, trimmed, when it is not empty.
    fn text(&self, names: &[&str]) -> Option<String> {
        self.find(names)
            .map(|p| p.value.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }

    /// A list of ids separated by commas, semicolons or blanks.
    fn ids(&self, names: &[&str]) -> Vec<String> {
        self.find(names)
            .map(|p| split_ids(p.value))
            .unwrap_or_default()
    }
}

fn split_ids(s: &str) -> Vec<String> {
    s.split([',', ';', ' ', '\t', '\n', '\r'])
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// Reads a number property when its check is enabled; a bad number is an error.
fn number<T: std::str::FromStr>(
    src: Src<'_>,
    props: &Props<'_, '_>,
    name: &str,
    path: &str,
    errors: &mut Vec<Diagnostic>,
) -> Option<T> {
    let p = props.find(&[name])?;
    let v = p.value.trim();
    if v.is_empty() {
        return None;
    }
    match v.parse::<T>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(src.diag(
                p.node,
                path,
                format!("{name} is {v:?}, expected a whole number"),
            ));
            None
        }
    }
}

/// The step kind of `<step type=ty>`; `None` after pushing an error.
pub(super) fn kind(
    src: Src<'_>,
    el: XNode<'_, '_>,
    ty: &str,
    path: &str,
    errors: &mut Vec<Diagnostic>,
) -> Option<StepKind> {
    let p = Props::of(el);
    let short = ty.strip_prefix("SMS_TaskSequence_").unwrap_or(ty);
    Some(match short {
        "PrestartCheckAction" => StepKind::CheckReadiness(check_readiness(src, &p, path, errors)),
        "UpgradeOperatingSystemAction" => StepKind::UpgradeOs(UpgradeOs {
            content: p.ids(&["InstallPackageID"]),
            scan_only: p.flag("ScanOnly"),
            ignore_dismissable: p.flag("IgnoreMessages"),
            additional_options: p.text(&[
                "SetupAdditionalUpgradeOptions",
                "AdditionalUpgradeOptions",
                "OSDSetupAdditionalUpgradeOptions",
            ]),
            edition_index: number(src, &p, "InstallEditionIndex", path, errors).unwrap_or(1),
            product_key: p.text(&["OsProductKey"]),
            dynamic_update: p.text(&["DynamicUpdateSettings"]),
            driver_content: p.ids(&[
                "DriverPackageID",
                "InstallDriverPackageID",
                "DriverPackageIDs",
            ]),
        }),
        "RebootAction" => StepKind::Restart { duration: None },
        "DownloadPackageContentAction" => {
            let mut content = p.ids(&["DownloadPackages"]);
            if content.is_empty() {
                // The editor's list: PackageInfo0PackageId, PackageInfo1PackageId...
                content =
                    p.0.iter()
                        .filter(|x| {
                            let k = x.property.to_ascii_lowercase();
                            k.starts_with("packageinfo") && k.ends_with("packageid")
                        })
                        .map(|x| x.value.trim().to_string())
                        .filter(|v| !v.is_empty())
                        .collect();
            }
            StepKind::Download {
                content,
                variable: p.text(&["DestinationVariable"]),
            }
        }
        "InstallApplicationAction" => StepKind::InstallApplications {
            applications: p.ids(&["ApplicationName"]),
            continue_on_error_per_app: p.flag("ContinueOnInstallError"),
        },
        "InstallSoftwareAction" => StepKind::InstallPackage {
            package: p.text(&["PackageID"]).unwrap_or_default(),
            program: p.text(&["ProgramName"]).unwrap_or_default(),
        },
        "InstallUpdateAction" => {
            let target = p.get("Target").unwrap_or("Mandatory").trim();
            let mode = if target.eq_ignore_ascii_case("Mandatory") || target.is_empty() {
                UpdatesMode::Required
            } else if target.eq_ignore_ascii_case("All") {
                UpdatesMode::All
            } else {
                let node = p.find(&["Target"]).map_or(el, |x| x.node);
                errors.push(src.diag(
                    node,
                    path,
                    format!("Target is {target:?}, expected Mandatory or All"),
                ));
                return None;
            };
            StepKind::InstallUpdates { mode }
        }
        "RunCommandLineAction" => StepKind::Run {
            command: p.text(&["CommandLine"]),
            powershell: false,
            package: p.text(&["PackageID"]),
            duration: None,
            exit_codes: Vec::new(),
            output_variable: p.text(&["OutputVariableName"]),
        },
        "RunPowerShellScriptAction" => {
            let command = p
                .text(&["ScriptName"])
                .map(|s| match p.text(&["Parameters"]) {
                    Some(a) => format!("{s} {a}"),
                    None => s,
                });
            StepKind::Run {
                command,
                powershell: true,
                package: p.text(&["PackageID"]),
                duration: None,
                exit_codes: Vec::new(),
                output_variable: p.text(&["OutputVariableName"]),
            }
        }
        "SetVariableAction" => {
            let Some(variable) = p.text(&["VariableName"]) else {
                errors.push(src.diag(
                    el,
                    path,
                    "Set Task Sequence Variable names no variable (VariableName)",
                ));
                return None;
            };
            StepKind::SetVariable {
                variable,
                value: p.get("VariableValue").unwrap_or_default().to_string(),
            }
        }
        "SetDynamicVariablesAction" => StepKind::SetDynamicVariables {
            rules: match p.find(&["Rules"]) {
                Some(r) => rules(src, r.node, r.value, path, errors)?,
                None => Vec::new(),
            },
        },
        "SubTasksequence" => StepKind::SubTaskSequence {
            package: p.text(&["TsPackageID"]).unwrap_or_default(),
            steps: Vec::new(),
        },
        _ => {
            let properties = first_of_each(p.0.iter().map(|x| {
                let k = if x.property.is_empty() {
                    x.name
                } else {
                    x.property
                };
                (k, x.value)
            }));
            StepKind::Timed {
                step_type: ty.to_string(),
                duration: None,
                properties,
            }
        }
    })
}

fn check_readiness(
    src: Src<'_>,
    p: &Props<'_, '_>,
    path: &str,
    errors: &mut Vec<Diagnostic>,
) -> CheckReadiness {
    let mut c = CheckReadiness::default();
    if p.flag("CheckFreeDiskSpace") {
        // Enabled without a value: the article's recommendation by architecture.
        c.free_disk_mb = Some(number(src, p, "FreeDiskSpace", path, errors).unwrap_or(0));
    }
    if p.flag("CheckMemory") {
        c.memory_mb = number(src, p, "Memory", path, errors);
    }
    if p.flag("CheckProcessorSpeed") {
        c.processor_mhz = number(src, p, "ProcessorSpeed", path, errors);
    }
    c.require_ac = p.flag("CheckPowerState");
    c.require_wired = p.flag("CheckNetworkWired");
    c.require_network = p.flag("CheckNetworkConnected");
    if p.flag("CheckOSType") {
        c.os_type = p.text(&["OSType"]);
    }
    if p.flag("CheckOSArchitecture") {
        c.os_architecture = p.text(&["OSArchitecture"]);
    }
    if p.flag("CheckOSLanguageID") {
        c.os_language = number(src, p, "OSLanguageID", path, errors);
    }
    // ConfigMgr 2010 and 2111 checks. UEFI: property `CheckDeviceUEFI`, variable
    // `OSDCheckDeviceUEFI` (SMS_TaskSequence_PrestartCheckAction,
    // <https://learn.microsoft.com/mem/configmgr/develop/reference/osd/sms_tasksequence_prestartcheckaction-server-wmi-class>).
    // TPM: that page predates 2111 and lists no TPM property; the names read here are
    // the documented cmdlet parameters `CheckTpmEnabled` and `CheckTpmActivated`
    // (<https://learn.microsoft.com/powershell/module/configurationmanager/set-cmtsstepprestartcheck>),
    // matched against the property or the variable name, ignoring case.
    c.uefi = p.flag("CheckDeviceUEFI");
    c.tpm_enabled = p.flag("CheckTpmEnabled");
    c.tpm_activated = p.flag("CheckTpmActivated");
    c
}

type Rules = Vec<Rule>;

/// Set Dynamic Variables' `Rules` property: escaped XML
/// `<Rules><Rule><condition>...</condition><Variables><Variable Name="X">v</Variable>...`.
fn rules(
    src: Src<'_>,
    el: XNode<'_, '_>,
    text: &str,
    path: &str,
    errors: &mut Vec<Diagnostic>,
) -> Option<Rules> {
    if text.trim().is_empty() {
        return Some(Vec::new());
    }
    let lines = LineIndex::new(text.trim());
    let (inner, doc) = match src.nested(el, text, &lines) {
        Ok(x) => x,
        Err(d) => {
            errors.push(d);
            return None;
        }
    };
    let root = doc.root_element();
    let key = format!("{path}/Rules");
    if !root.has_tag_name("Rules") {
        errors.push(inner.diag(
            root,
            &key,
            format!("found <{}>, expected <Rules>", root.tag_name().name()),
        ));
        return None;
    }
    let mut out = Vec::new();
    for rule in root.children().filter(|n| n.has_tag_name("Rule")) {
        let cond = rule
            .children()
            .find(|n| n.has_tag_name("condition"))
            .and_then(|c| condition(inner, c, &key, errors));
        let mut vars = Assignments::default();
        for v in rule
            .children()
            .filter(|n| n.has_tag_name("Variables"))
            .flat_map(|l| l.children().filter(|n| n.has_tag_name("Variable")))
        {
            match v.attribute("Name") {
                Some(n) => vars.assign(n, v.text().unwrap_or_default()),
                None => errors.push(inner.diag(v, &key, "<Variable> has no `Name` attribute")),
            }
        }
        out.push((cond, vars.list));
    }
    Some(out)
}
