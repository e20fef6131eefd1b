//! The per-type keys of a step table.

use toml::de::{DeTable, DeValue};

use super::{Reader, Val, parse_code};
use crate::domain::UpdatesMode;
use crate::input::units::Quantity;
use crate::input::value::{self, join, type_name};
use crate::tasksequence::tree::{CheckReadiness, RemoveWhat, Rule, StepKind, UpgradeOs};

impl Reader<'_> {
    pub(super) fn kind(
        &mut self,
        ty: &str,
        t: &DeTable<'_>,
        tv: &Val<'_>,
        path: &str,
        depth: usize,
    ) -> Option<StepKind> {
        let s = |r: &mut Self, name: &str| r.opt_string(t, path, name);
        Some(match ty {
            "group" => StepKind::Group {
                steps: match value::get(t, "steps") {
                    Some(v) => self.steps(&join(path, "steps"), v, depth + 1),
                    None => Vec::new(),
                },
            },
            "download" => {
                if value::get(t, "content").is_none() {
                    self.err(
                        tv,
                        &join(path, "content"),
                        "missing key `content` (a list of content ids)",
                    );
                }
                StepKind::Download {
                    content: self.opt_strings(t, path, "content"),
                    variable: s(self, "variable"),
                }
            }
            "run" | "powershell" => StepKind::Run {
                command: s(self, "command"),
                powershell: ty == "powershell",
                package: s(self, "package"),
                duration: self.duration(t, path),
                exit_codes: match value::get(t, "exit_codes") {
                    Some(v) => self.exit_codes(&join(path, "exit_codes"), v),
                    None => Vec::new(),
                },
                output_variable: s(self, "output_variable"),
            },
            "check_readiness" => StepKind::CheckReadiness(self.check_readiness(t, path)),
            "set_variable" => StepKind::SetVariable {
                variable: self.required_string(t, tv, path, "variable"),
                value: s(self, "value").unwrap_or_default(),
            },
            "set_dynamic_variables" => StepKind::SetDynamicVariables {
                rules: match value::get(t, "rules") {
                    Some(v) => self.rules(&join(path, "rules"), v),
                    None => Vec::new(),
                },
            },
            "upgrade_os" => StepKind::UpgradeOs(UpgradeOs {
                content: self.opt_strings(t, path, "content"),
                scan_only: self.opt_bool(t, path, "scan_only"),
                ignore_dismissable: self.opt_bool(t, path, "ignore_dismissable"),
                additional_options: s(self, "additional_options"),
                edition_index: self.bounded(t, path, "edition_index").unwrap_or(1),
                product_key: s(self, "product_key"),
                dynamic_update: s(self, "dynamic_update"),
                driver_content: self.opt_strings(t, path, "driver_content"),
            }),
            "install_applications" => StepKind::InstallApplications {
                applications: self.opt_strings(t, path, "applications"),
                continue_on_error_per_app: self.opt_bool(t, path, "continue_on_error_per_app"),
            },
            "install_package" => StepKind::InstallPackage {
                package: self.required_string(t, tv, path, "package"),
                program: s(self, "program").unwrap_or_default(),
            },
            "install_updates" => {
                let mode = self.required_string(t, tv, path, "mode");
                let mode = match mode.as_str() {
                    "required" => UpdatesMode::Required,
                    "all" => UpdatesMode::All,
                    "none" => UpdatesMode::None,
                    other => {
                        let v = value::get(t, "mode").unwrap_or(tv);
                        if !other.is_empty() {
                            let m =
                                format!("unknown mode {other:?}, expected required, all or none");
                            self.err(v, &join(path, "mode"), m);
                        }
                        return None;
                    }
                };
                StepKind::InstallUpdates { mode }
            }
            "restart" => StepKind::Restart {
                duration: self.duration(t, path),
            },
            "remove" => {
                let what = self.required_string(t, tv, path, "what");
                let what = match what.as_str() {
                    "incompatible_apps" => RemoveWhat::IncompatibleApps,
                    "incompatible_drivers" => RemoveWhat::IncompatibleDrivers,
                    "third_party_security" => RemoveWhat::ThirdPartySecurity,
                    other => {
                        let v = value::get(t, "what").unwrap_or(tv);
                        if !other.is_empty() {
                            let m = format!(
                                "unknown {other:?}, expected incompatible_apps, incompatible_drivers or third_party_security"
                            );
                            self.err(v, &join(path, "what"), m);
                        }
                        return None;
                    }
                };
                StepKind::Remove { what }
            }
            "sub_task_sequence" => StepKind::SubTaskSequence {
                package: self.required_string(t, tv, path, "package"),
                steps: match value::get(t, "steps") {
                    Some(v) => self.steps(&join(path, "steps"), v, depth + 1),
                    None => Vec::new(),
                },
            },
            _ => StepKind::Timed {
                step_type: self.required_string(t, tv, path, "step_type"),
                duration: self.duration(t, path),
                properties: match value::get(t, "properties") {
                    Some(v) => self.text_table(&join(path, "properties"), v),
                    None => Vec::new(),
                },
            },
        })
    }

    fn exit_codes(&mut self, key: &str, v: &Val<'_>) -> Vec<(i64, f64)> {
        let r = value::table(&self.ctx, key, v);
        let Some(t) = self.ok(r) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, w) in t.iter() {
            let code_text = k.get_ref().to_string();
            let wkey = join(key, &code_text);
            let Some(code) = parse_code(&code_text) else {
                let d = self.ctx.diag(
                    k.span(),
                    &wkey,
                    format!(
                        "{code_text:?} is not an exit code (decimal, or hex such as \"0xC1900208\")"
                    ),
                );
                self.errors.push(d);
                continue;
            };
            let r = value::quantity(&self.ctx, &wkey, w, Quantity::Number);
            let Some(weight) = self.ok(r) else { continue };
            if !(weight.is_finite() && weight >= 0.0) {
                self.err(w, &wkey, format!("found {weight}, expected a weight >= 0"));
                continue;
            }
            out.push((code, weight));
        }
        if !out.is_empty() && out.iter().all(|&(_, w)| w == 0.0) {
            self.err(v, key, "every weight is 0; at least one must be positive");
        }
        out
    }

    fn check_readiness(&mut self, t: &DeTable<'_>, path: &str) -> CheckReadiness {
        let mut c = CheckReadiness::default();
        if let Some(v) = value::get(t, "free_disk") {
            let key = join(path, "free_disk");
            c.free_disk_mb = match v.get_ref() {
                DeValue::Boolean(true) => Some(0),
                DeValue::Boolean(false) => None,
                _ => self.megabytes(&key, v),
            };
        }
        if let Some(v) = value::get(t, "memory") {
            c.memory_mb = self.megabytes(&join(path, "memory"), v);
        }
        c.processor_mhz = self.bounded(t, path, "processor_mhz");
        c.require_ac = self.opt_bool(t, path, "require_ac");
        c.require_wired = self.opt_bool(t, path, "require_wired");
        c.require_network = self.opt_bool(t, path, "require_network");
        c.os_type = self.opt_string(t, path, "os_type");
        c.os_architecture = self.opt_string(t, path, "os_architecture");
        c.os_language = self.bounded(t, path, "os_language");
        c.uefi = self.opt_bool(t, path, "uefi");
        c.tpm_enabled = self.opt_bool(t, path, "tpm_enabled");
        c.tpm_activated = self.opt_bool(t, path, "tpm_activated");
        c
    }

    fn rules(&mut self, key: &str, v: &Val<'_>) -> Vec<Rule> {
        let DeValue::Array(a) = v.get_ref() else {
            let m = format!(
                "found {}, expected an array of rule tables",
                type_name(v.get_ref())
            );
            self.err(v, key, m);
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in a.iter().enumerate() {
            let rkey = format!("{key}.{i}");
            let r = value::table(&self.ctx, &rkey, item);
            let Some(t) = self.ok(r) else { continue };
            value::check_keys(
                &self.ctx,
                &rkey,
                t,
                &["condition", "variables"],
                &mut self.errors,
            );
            let cond = value::get(t, "condition")
                .and_then(|c| self.condition(&join(&rkey, "condition"), c, 0));
            let vars = match value::get(t, "variables") {
                Some(vv) => self.text_table(&join(&rkey, "variables"), vv),
                None => Vec::new(),
            };
            out.push((cond, vars));
        }
        out
    }
}
