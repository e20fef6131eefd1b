//! `[deployment]` (when and how the task sequence is offered) and `[client]` (the
//! ConfigMgr client's own settings).

use toml::Spanned;
use toml::de::DeValue;

use super::defaults;
use super::fields::{self, Section};
use super::model::{ClientSettings, Deployment, DpOption, Purpose, UpdatesMode};
use super::units::Quantity;
use super::value::{self, SourceCtx};
use crate::diag::Diagnostic;

const DEPLOYMENT_KEYS: &[&str] = &[
    "purpose",
    "available_at",
    "deadline",
    "precache",
    "dp_option",
    "user_start",
    "software_updates",
    "timeout",
    "max_run_time",
    "ignore_maintenance_windows",
    "wake_up",
];
const CLIENT_KEYS: &[&str] = &[
    "policy_poll",
    "download_retry_count",
    "download_retry_delay",
    "cache_size",
    "transient_failure",
    "policy_interval",
    "bits",
];
const PURPOSES: &[(&str, Purpose)] = &[
    ("available", Purpose::Available),
    ("required", Purpose::Required),
];
const DP_OPTIONS: &[(&str, DpOption)] = &[
    ("download_on_demand", DpOption::DownloadOnDemand),
    ("download_all_first", DpOption::DownloadAllFirst),
    ("access_from_dp", DpOption::AccessFromDp),
];
/// Spellings of the software update modes (also used by `install_updates` steps).
pub(crate) const UPDATES: &[(&str, UpdatesMode)] = &[
    ("required", UpdatesMode::Required),
    ("all", UpdatesMode::All),
    ("none", UpdatesMode::None),
];

/// Reads `[deployment]` (absent: an available deployment at time 0, no deadline).
pub(crate) fn read_deployment(
    ctx: &SourceCtx<'_>,
    v: Option<&Spanned<DeValue<'_>>>,
    errors: &mut Vec<Diagnostic>,
) -> Deployment {
    let mut d = Deployment {
        purpose: defaults::PURPOSE,
        available_at: 0,
        deadline: None,
        precache: false,
        dp_option: defaults::DP_OPTION,
        user_start: defaults::user_start(),
        software_updates: defaults::SOFTWARE_UPDATES,
        timeout: None,
        max_run_time: 120 * crate::engine::time::MINUTE,
        ignore_maintenance_windows: false,
        wake_up: 0.0,
    };
    let Some(v) = v else { return d };
    let s = match Section::new(ctx, "deployment", v) {
        Ok(s) => s,
        Err(e) => {
            errors.push(e);
            return d;
        }
    };
    s.check_keys(DEPLOYMENT_KEYS, errors);
    d.purpose = s.or(
        "purpose",
        d.purpose,
        &|c, k, v| fields::keyword(c, k, v, PURPOSES),
        errors,
    );
    d.available_at = s.or("available_at", 0, &fields::duration, errors);
    d.deadline = s.opt("deadline", &fields::duration, errors);
    d.precache = s.or("precache", false, &value::boolean, errors);
    d.dp_option = s.or(
        "dp_option",
        d.dp_option,
        &|c, k, v| fields::keyword(c, k, v, DP_OPTIONS),
        errors,
    );
    d.user_start = s.dist("user_start", Quantity::Duration, d.user_start, errors);
    d.software_updates = s.or(
        "software_updates",
        d.software_updates,
        &|c, k, v| fields::keyword(c, k, v, UPDATES),
        errors,
    );
    d.timeout = s.opt("timeout", &fields::positive_duration, errors);
    d.max_run_time = s.or(
        "max_run_time",
        d.max_run_time,
        &fields::positive_duration,
        errors,
    );
    d.ignore_maintenance_windows =
        s.or("ignore_maintenance_windows", false, &value::boolean, errors);
    d.wake_up = s.or("wake_up", 0.0, &value::probability, errors);

    if d.purpose == Purpose::Required && s.get("deadline").is_none() {
        let at = s.get("purpose").map(|p| p.span()).unwrap_or(s.span.clone());
        errors.push(ctx.diag(
            at,
            &s.key("deadline"),
            "a required deployment needs a `deadline` (e.g. deadline = \"14d\")",
        ));
    }
    if let (Some(deadline), Some(dv)) = (d.deadline, s.get("deadline"))
        && deadline < d.available_at
    {
        errors.push(ctx.diag(
            dv.span(),
            &s.key("deadline"),
            "the deadline is before available_at, expected a deadline at or after it",
        ));
    }
    d
}

/// Reads `[client]`; `transient_failure` may be partial (other networks keep their
/// defaults).
pub(crate) fn read_client(
    ctx: &SourceCtx<'_>,
    v: Option<&Spanned<DeValue<'_>>>,
    errors: &mut Vec<Diagnostic>,
) -> ClientSettings {
    let mut c = defaults::client();
    let Some(v) = v else { return c };
    let s = match Section::new(ctx, "client", v) {
        Ok(s) => s,
        Err(e) => {
            errors.push(e);
            return c;
        }
    };
    s.check_keys(CLIENT_KEYS, errors);
    c.policy_interval = s.or(
        "policy_interval",
        c.policy_interval,
        &fields::positive_duration,
        errors,
    );
    // The next poll after the deployment comes anywhere within one polling interval.
    let poll_default = crate::scenario::model::Dist::Uniform {
        min: 0.0,
        max: c.policy_interval as f64,
    };
    c.policy_poll = s.dist("policy_poll", Quantity::Duration, poll_default, errors);
    let max = i128::from(super::defaults::MAX_DOWNLOAD_RETRIES);
    c.download_retry_count = s.or(
        "download_retry_count",
        c.download_retry_count,
        &|cx, k, v| fields::int_in(cx, k, v, 0, max),
        errors,
    );
    c.download_retry_delay = s.or(
        "download_retry_delay",
        c.download_retry_delay,
        &fields::duration,
        errors,
    );
    c.cache_size = s.or("cache_size", c.cache_size, &fields::positive_size, errors);
    if let Some(tv) = s.get("transient_failure") {
        match Section::new(ctx, &s.key("transient_failure"), tv) {
            Ok(t) => {
                t.check_keys(&["wired", "wireless", "vpn"], errors);
                let tf = &mut c.transient_failure;
                tf.wired = t.or("wired", tf.wired, &value::probability, errors);
                tf.wireless = t.or("wireless", tf.wireless, &value::probability, errors);
                tf.vpn = t.or("vpn", tf.vpn, &value::probability, errors);
            }
            Err(e) => errors.push(e),
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::{DAY, HOUR, SECOND};
    use crate::scenario::model::Dist;
    use crate::scenario::testutil::doc_errors;

    #[test]
    fn deployment_values_and_defaults() {
        let text = r#"[deployment]
purpose = "required"
available_at = "1d"
deadline = "14d"
precache = true
dp_option = "download_all_first"
user_start = { dist = "exponential", mean = "2h" }
software_updates = "none"
timeout = "8h"
"#;
        let mut got = None;
        let errors = doc_errors(text, |ctx, doc, errors| {
            got = Some(read_deployment(ctx, value::get(doc, "deployment"), errors));
        });
        assert!(errors.is_empty(), "{errors:?}");
        let d = got.expect("read");
        assert_eq!(d.purpose, Purpose::Required);
        assert_eq!((d.available_at, d.deadline), (DAY, Some(14 * DAY)));
        assert!(d.precache);
        assert_eq!(d.dp_option, DpOption::DownloadAllFirst);
        assert_eq!(
            d.user_start,
            Dist::Exponential {
                mean: (2 * HOUR) as f64
            }
        );
        assert_eq!(d.software_updates, UpdatesMode::None);
        assert_eq!(d.timeout, Some(8 * HOUR));
    }

    #[test]
    fn deadline_rules() {
        for (text, line, needle) in [
            (
                "[deployment]\npurpose = \"required\"\n",
                2,
                "needs a `deadline`",
            ),
            (
                "[deployment]\navailable_at = \"2d\"\ndeadline = \"1d\"\n",
                3,
                "before available_at",
            ),
            ("[deployment]\ntimeout = 0\n", 2, "greater than zero"),
            (
                "[deployment]\npurpose = \"mandatory\"\n",
                2,
                "available, required",
            ),
        ] {
            let errors = doc_errors(text, |ctx, doc, errors| {
                read_deployment(ctx, value::get(doc, "deployment"), errors);
            });
            assert_eq!(errors.len(), 1, "{text}: {errors:?}");
            assert_eq!(errors[0].line, line, "{text}");
            assert!(errors[0].message.contains(needle), "{text}: {errors:?}");
        }
    }

    #[test]
    fn client_partial_transient_failure_keeps_defaults() {
        let text = "[client]\ndownload_retry_count = 5\ndownload_retry_delay = \"1m\"\n\
                    cache_size = \"50GB\"\ntransient_failure = { vpn = 0.2 }\n";
        let mut got = None;
        let errors = doc_errors(text, |ctx, doc, errors| {
            got = Some(read_client(ctx, value::get(doc, "client"), errors));
        });
        assert!(errors.is_empty(), "{errors:?}");
        let c = got.expect("read");
        assert_eq!(c.download_retry_count, 5);
        assert_eq!(c.download_retry_delay, 60 * SECOND);
        assert_eq!(c.cache_size, 50_000_000_000);
        assert_eq!(c.transient_failure.vpn, 0.2);
        assert_eq!(c.transient_failure.wired, 0.001);
        assert_eq!(c.transient_failure.wireless, 0.02);
    }

    #[test]
    fn client_errors() {
        let text = "[client]\ndownload_retry_count = -1\ncache_size = 0\n\
                    transient_failure = { wired = 1.5, lan = 0 }\npolicy_poll = \"-5m\"\n";
        let errors = doc_errors(text, |ctx, doc, errors| {
            read_client(ctx, value::get(doc, "client"), errors);
        });
        let mut keys: Vec<&str> = errors.iter().map(|d| d.key.as_str()).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "client.cache_size",
                "client.download_retry_count",
                "client.policy_poll",
                "client.transient_failure.lan",
                "client.transient_failure.wired",
            ]
        );
    }
}
