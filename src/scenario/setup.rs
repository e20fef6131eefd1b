//! `[setup]`: phase durations of Windows Setup and the random rollback probability.
//! Defaults and their sources are in [`super::defaults::setup`].

use toml::Spanned;
use toml::de::DeValue;

use super::defaults;
use super::fields::Section;
use super::model::{Dist, SetupModel};
use super::units::Quantity;
use super::value::{self, SourceCtx};
use crate::diag::Diagnostic;

const SETUP_KEYS: &[&str] = &[
    "compat_scan",
    "downlevel",
    "restart",
    "safeos",
    "first_boot",
    "second_boot",
    "rollback",
    "default_step",
    "random_rollback",
];

/// Reads `[setup]`; every key is optional.
pub(crate) fn read_setup(
    ctx: &SourceCtx<'_>,
    v: Option<&Spanned<DeValue<'_>>>,
    errors: &mut Vec<Diagnostic>,
) -> SetupModel {
    let mut m = defaults::setup();
    let Some(v) = v else { return m };
    let s = match Section::new(ctx, "setup", v) {
        Ok(s) => s,
        Err(e) => {
            errors.push(e);
            return m;
        }
    };
    s.check_keys(SETUP_KEYS, errors);
    let phase = |name: &str, d: &mut Dist, errors: &mut Vec<Diagnostic>| {
        *d = s.dist(name, Quantity::Duration, d.clone(), errors);
    };
    phase("compat_scan", &mut m.compat_scan, errors);
    phase("downlevel", &mut m.downlevel, errors);
    phase("restart", &mut m.restart, errors);
    phase("safeos", &mut m.safeos, errors);
    phase("first_boot", &mut m.first_boot, errors);
    phase("second_boot", &mut m.second_boot, errors);
    phase("rollback", &mut m.rollback, errors);
    phase("default_step", &mut m.default_step, errors);
    m.random_rollback = s.or("random_rollback", 0.0, &value::probability, errors);
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::MINUTE;
    use crate::scenario::testutil::doc_errors;

    #[test]
    fn overrides_some_phases_and_keeps_the_rest() {
        let text = "[setup]\ndownlevel = \"1h\"\nsafeos = { dist = \"uniform\", min = \"5m\", max = \"15m\" }\n\
                    random_rollback = 0.01\n";
        let mut got = None;
        let errors = doc_errors(text, |ctx, doc, errors| {
            got = Some(read_setup(ctx, value::get(doc, "setup"), errors));
        });
        assert!(errors.is_empty(), "{errors:?}");
        let m = got.expect("read");
        assert_eq!(m.downlevel, Dist::Fixed((60 * MINUTE) as f64));
        assert_eq!(
            m.safeos,
            Dist::Uniform {
                min: (5 * MINUTE) as f64,
                max: (15 * MINUTE) as f64
            }
        );
        assert_eq!(m.random_rollback, 0.01);
        assert_eq!(m.first_boot, defaults::setup().first_boot);
        // The offline phases of the default model average about 30 minutes (NOTES.md).
        let d = defaults::setup();
        let offline =
            d.restart.mean() + d.safeos.mean() + d.first_boot.mean() + d.second_boot.mean();
        assert_eq!(offline, (32 * MINUTE) as f64);
    }

    #[test]
    fn bad_phases_are_reported() {
        let text = "[setup]\nrestart = \"2 fortnights\"\nrollback = { dist = \"normal\", mean = \"1h\" }\n\
                    random_rollback = 2\noobe = \"5m\"\n";
        let errors = doc_errors(text, |ctx, doc, errors| {
            read_setup(ctx, value::get(doc, "setup"), errors);
        });
        let mut keys: Vec<&str> = errors.iter().map(|d| d.key.as_str()).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "setup.oobe",
                "setup.random_rollback",
                "setup.restart",
                "setup.rollback.sd"
            ]
        );
    }
}
