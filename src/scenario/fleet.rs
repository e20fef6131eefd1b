//! `[fleet]` (how clients are drawn) and `[network]` (per-client link caps).

use toml::Spanned;
use toml::de::DeValue;

use super::defaults::{self, MAX_CLIENTS};
use super::fields::{self, Section};
use super::model::{Arch, Firmware, Fleet, NetType, NetworkCaps, OsVersion, Power, Tpm, Weights};
use super::units::Quantity;
use super::value::{self, SourceCtx, type_name};
use crate::diag::Diagnostic;

/// Spellings of architectures, shared with `[[content]]`.
pub(crate) const ARCHS: &[(&str, Arch)] = &[("x64", Arch::X64), ("x86", Arch::X86)];
const POWERS: &[(&str, Power)] = &[("ac", Power::Ac), ("battery", Power::Battery)];
const NETS: &[(&str, NetType)] = &[
    ("wired", NetType::Wired),
    ("wireless", NetType::Wireless),
    ("vpn", NetType::Vpn),
];
const OSES: &[(&str, OsVersion)] = &[
    ("win7", OsVersion::Win7),
    ("win81", OsVersion::Win81),
    ("win10", OsVersion::Win10),
    ("server2012", OsVersion::Server2012),
    ("server2012r2", OsVersion::Server2012R2),
];
const TPMS: &[(&str, Tpm)] = &[("2.0", Tpm::V20), ("1.2", Tpm::V12), ("none", Tpm::None)];
const FIRMWARES: &[(&str, Firmware)] = &[
    ("uefi_secure_boot", Firmware::UefiSecureBoot),
    ("uefi", Firmware::Uefi),
    ("bios", Firmware::Bios),
];

const FLEET_KEYS: &[&str] = &[
    "clients",
    "architecture",
    "language",
    "power",
    "network",
    "os",
    "free_disk",
    "memory",
    "cpu_mhz",
    "model",
    "incompatible_app",
    "incompatible_driver",
    "third_party_encryption",
    "exact_shares",
    "tpm",
    "firmware",
    "cpu_supported",
    "system_drive",
    "inventory",
    "power_schedule",
];

/// Reads `[fleet]`; `v` is `None` when the table is absent (an error: `clients` is
/// required), reported at the top of the file.
pub(crate) fn read_fleet(
    ctx: &SourceCtx<'_>,
    v: Option<&Spanned<DeValue<'_>>>,
    errors: &mut Vec<Diagnostic>,
) -> Fleet {
    let mut fleet = Fleet {
        clients: 1,
        architecture: defaults::architecture(),
        language: defaults::language(),
        power: defaults::power(),
        network: defaults::network(),
        os: defaults::os(),
        free_disk: defaults::free_disk(),
        memory: defaults::memory(),
        cpu_mhz: defaults::cpu_mhz(),
        model: defaults::model(),
        incompatible_app: 0.0,
        incompatible_driver: 0.0,
        third_party_encryption: 0.0,
        exact_shares: false,
        tpm: defaults::tpm(),
        firmware: defaults::firmware(),
        cpu_supported: 1.0,
        system_drive: defaults::system_drive(),
        inventory: None,
    };
    let Some(v) = v else {
        errors.push(ctx.diag(
            0..0,
            "fleet",
            "missing [fleet] table; it needs at least `clients = <number of clients>`",
        ));
        return fleet;
    };
    let s = match Section::new(ctx, "fleet", v) {
        Ok(s) => s,
        Err(d) => {
            errors.push(d);
            return fleet;
        }
    };
    s.check_keys(FLEET_KEYS, errors);
    let max = i128::from(MAX_CLIENTS);
    let clients =
        |c: &SourceCtx<'_>, k: &str, v: &Spanned<DeValue<'_>>| fields::int_in(c, k, v, 1, max);
    // With an inventory the fleet is its rows (`attach_inventory` checks `clients`).
    let n = if s.get("inventory").is_some() {
        s.opt("clients", &clients, errors)
    } else {
        s.required("clients", &clients, errors)
    };
    if let Some(n) = n {
        fleet.clients = n;
    }
    fleet.architecture = weights_of(&s, "architecture", ARCHS, fleet.architecture, errors);
    fleet.power = weights_of(&s, "power", POWERS, fleet.power, errors);
    fleet.network = weights_of(&s, "network", NETS, fleet.network, errors);
    fleet.os = weights_of(&s, "os", OSES, fleet.os, errors);
    fleet.language = weights(&s, "language", "a decimal LCID such as 1033", &lcid, errors)
        .unwrap_or(fleet.language);
    fleet.model = weights(
        &s,
        "model",
        "a hardware model name",
        &|l| Some(l.to_string()),
        errors,
    )
    .unwrap_or(fleet.model);
    // A client stores its language in 8 bits and its model in 16 (`ClientAttrs`).
    at_most(&s, "language", fleet.language.items.len(), 256, errors);
    at_most(
        &s,
        "model",
        fleet.model.items.len(),
        usize::from(u16::MAX),
        errors,
    );
    fleet.free_disk = s.dist("free_disk", Quantity::Size, fleet.free_disk, errors);
    fleet.memory = s.dist("memory", Quantity::Size, fleet.memory, errors);
    fleet.cpu_mhz = s.dist("cpu_mhz", Quantity::Number, fleet.cpu_mhz, errors);
    fleet.incompatible_app = s.or("incompatible_app", 0.0, &value::probability, errors);
    fleet.incompatible_driver = s.or("incompatible_driver", 0.0, &value::probability, errors);
    fleet.third_party_encryption = s.or("third_party_encryption", 0.0, &value::probability, errors);
    fleet.exact_shares = s.or("exact_shares", false, &value::boolean, errors);
    fleet.tpm = weights_of(&s, "tpm", TPMS, fleet.tpm, errors);
    fleet.firmware = weights_of(&s, "firmware", FIRMWARES, fleet.firmware, errors);
    fleet.cpu_supported = s.or("cpu_supported", 1.0, &value::probability, errors);
    fleet.system_drive = s.dist("system_drive", Quantity::Size, fleet.system_drive, errors);
    fleet
}

/// Reads `fleet.inventory` (after `[[sites]]`, whose names its `site` column uses):
/// the fleet becomes the file's rows. `fleet.clients`, when given too, must equal
/// their number; the inventory's languages and models become the fleet's tables
/// (their weights the shares in the file) so that drawn and read clients index the
/// same lists.
pub(crate) fn attach_inventory(
    ctx: &SourceCtx<'_>,
    v: Option<&Spanned<DeValue<'_>>>,
    site_names: &[&str],
    fleet: &mut Fleet,
    errors: &mut Vec<Diagnostic>,
) {
    let Some(v) = v else { return };
    let Ok(s) = Section::new(ctx, "fleet", v) else {
        return; // reported by read_fleet
    };
    let Some(iv) = s.get("inventory") else { return };
    let Some(rel) = s.opt("inventory", &value::string, errors) else {
        return;
    };
    let path = ctx.base_dir.join(&rel);
    let inv = match crate::fleet::inventory::read(&path, site_names) {
        Ok(inv) => inv,
        Err(mut ds) => {
            if ds.iter().all(|d| d.line == 0) {
                // The file could not be opened: say so at the key that names it.
                for d in &ds {
                    errors.push(ctx.diag(
                        iv.span(),
                        "fleet.inventory",
                        format!("{}: {}", path.display(), d.message),
                    ));
                }
            } else {
                errors.append(&mut ds);
            }
            return;
        }
    };
    let rows = inv.len() as u64;
    if let Some(cv) = s.get("clients")
        && fleet.clients != rows
    {
        errors.push(ctx.diag(
            cv.span(),
            "fleet.clients",
            format!(
                "{} clients, but the inventory {} lists {rows} devices: expected {rows}                  (or no `clients` key)",
                fleet.clients,
                path.display()
            ),
        ));
        return;
    }
    fleet.clients = rows;
    let share = |count: Vec<u64>| -> Vec<f64> {
        count
            .into_iter()
            .map(|c| c as f64 / rows.max(1) as f64)
            .collect()
    };
    if !inv.languages.is_empty() {
        let mut counts = vec![0u64; inv.languages.len()];
        for r in &inv.rows {
            if let Some(l) = r.language
                && let Some(c) = counts.get_mut(l as usize)
            {
                *c += 1;
            }
        }
        fleet.language = Weights {
            items: inv.languages.iter().copied().zip(share(counts)).collect(),
        };
    }
    if !inv.models.is_empty() {
        let mut counts = vec![0u64; inv.models.len()];
        for r in &inv.rows {
            if let Some(m) = r.model
                && let Some(c) = counts.get_mut(m as usize)
            {
                *c += 1;
            }
        }
        fleet.model = Weights {
            items: inv.models.iter().cloned().zip(share(counts)).collect(),
        };
    }
    // A column every row fills replaces its weights by the file's shares, so that
    // `validate`'s description and warnings speak of the real fleet.
    if let Some(w) = observed(&inv.rows, |r| r.arch) {
        fleet.architecture = w;
    }
    if let Some(w) = observed(&inv.rows, |r| r.os) {
        fleet.os = w;
    }
    if let Some(w) = observed(&inv.rows, |r| r.network) {
        fleet.network = w;
    }
    if let Some(w) = observed(&inv.rows, |r| r.power) {
        fleet.power = w;
    }
    if let Some(w) = observed(&inv.rows, |r| r.tpm) {
        fleet.tpm = w;
    }
    if let Some(w) = observed(&inv.rows, |r| r.firmware) {
        fleet.firmware = w;
    }
    fleet.inventory = Some(std::sync::Arc::new(inv));
}

/// The shares of an attribute over the rows, in first-seen order, when every row
/// gives it (`None` when one leaves it to the weights).
fn observed<T: Copy + PartialEq>(
    rows: &[crate::domain::InventoryRow],
    get: impl Fn(&crate::domain::InventoryRow) -> Option<T>,
) -> Option<Weights<T>> {
    let mut counts: Vec<(T, u64)> = Vec::new();
    for r in rows {
        let v = get(r)?;
        match counts.iter_mut().find(|(x, _)| *x == v) {
            Some(c) => c.1 += 1,
            None => counts.push((v, 1)),
        }
    }
    let n = rows.len().max(1) as f64;
    (!counts.is_empty()).then(|| Weights {
        items: counts.into_iter().map(|(v, c)| (v, c as f64 / n)).collect(),
    })
}

/// Refuses a weight table with more than `max` labels, at the table.
fn at_most(s: &Section<'_, '_>, name: &str, n: usize, max: usize, errors: &mut Vec<Diagnostic>) {
    if let Some(v) = s.get(name)
        && n > max
    {
        let m = format!("{n} labels, expected at most {max}");
        errors.push(s.ctx.diag(v.span(), &s.key(name), m));
    }
}

/// A decimal LCID (`1033`); refuses signs, hex and anything above `u32`.
pub(crate) fn lcid(label: &str) -> Option<u32> {
    if label.is_empty() || !label.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    label.parse().ok()
}

/// A weight table over a closed set of labels.
fn weights_of<T: Copy + Eq + std::hash::Hash>(
    s: &Section<'_, '_>,
    name: &str,
    options: &[(&str, T)],
    default: Weights<T>,
    errors: &mut Vec<Diagnostic>,
) -> Weights<T> {
    let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
    let expected = format!("one of: {}", names.join(", "));
    let label = |l: &str| options.iter().find(|(n, _)| *n == l).map(|(_, x)| *x);
    weights(s, name, &expected, &label, errors).unwrap_or(default)
}

/// Reads a weight table `{ label = weight, ... }` (or a single label string, meaning
/// weight 1 on it) and normalises it. `None` when absent or invalid (errors pushed).
/// Weights must be >= 0 and sum to more than 0; labels must be known and distinct.
pub(crate) fn weights<T: Eq + std::hash::Hash + Clone>(
    s: &Section<'_, '_>,
    name: &str,
    expected_label: &str,
    label: &dyn Fn(&str) -> Option<T>,
    errors: &mut Vec<Diagnostic>,
) -> Option<Weights<T>> {
    let v = s.get(name)?;
    let key = s.key(name);
    let ctx = s.ctx;
    let table = match v.get_ref() {
        DeValue::Table(t) => t,
        DeValue::String(l) => {
            return match label(l) {
                Some(x) => Some(Weights {
                    items: vec![(x, 1.0)],
                }),
                None => {
                    errors.push(ctx.diag(
                        v.span(),
                        &key,
                        format!("unknown label {l:?}, expected {expected_label}"),
                    ));
                    None
                }
            };
        }
        other => {
            errors.push(ctx.diag(
                v.span(),
                &key,
                format!(
                    "found {}, expected a table of weights such as {{ label = 0.5, ... }}",
                    type_name(other)
                ),
            ));
            return None;
        }
    };
    let before = errors.len();
    let mut items: Vec<(T, f64)> = Vec::new();
    // Labels seen: `1033` and `01033` are one LCID, and a set finds the repeat in a
    // table of any size without a scan per label.
    let mut seen = std::collections::HashSet::new();
    for (k, w) in table.iter() {
        let item_key = value::join(&key, k.get_ref());
        let x = label(k.get_ref());
        let weight = fields::non_negative(ctx, &item_key, w);
        match (x, weight) {
            (None, _) => errors.push(ctx.diag(
                k.span(),
                &item_key,
                format!(
                    "unknown label {:?}, expected {expected_label}",
                    k.get_ref().as_ref()
                ),
            )),
            (_, Err(d)) => errors.push(d),
            (Some(x), Ok(_)) if !seen.insert(x.clone()) => {
                errors.push(ctx.diag(k.span(), &item_key, "the same label is listed twice"))
            }
            (Some(x), Ok(w)) => items.push((x, w)),
        }
    }
    if errors.len() > before {
        return None;
    }
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    if !(total > 0.0 && total.is_finite()) {
        errors.push(ctx.diag(
            v.span(),
            &key,
            format!("weights sum to {total}, expected a positive total"),
        ));
        return None;
    }
    for (_, w) in &mut items {
        *w /= total;
    }
    Some(Weights { items })
}

/// Reads `[network]`: per-network-type link caps, each a rate > 0.
pub(crate) fn read_network(
    ctx: &SourceCtx<'_>,
    v: Option<&Spanned<DeValue<'_>>>,
    errors: &mut Vec<Diagnostic>,
) -> NetworkCaps {
    let mut caps = defaults::network_caps();
    let Some(v) = v else { return caps };
    let s = match Section::new(ctx, "network", v) {
        Ok(s) => s,
        Err(d) => {
            errors.push(d);
            return caps;
        }
    };
    s.check_keys(&["wired", "wireless", "vpn"], errors);
    caps.wired = s.or("wired", caps.wired, &fields::positive_rate, errors);
    caps.wireless = s.or("wireless", caps.wireless, &fields::positive_rate, errors);
    caps.vpn = s.or("vpn", caps.vpn, &fields::positive_rate, errors);
    caps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::testutil::{doc_errors, with_doc};

    #[test]
    fn weights_are_normalised_in_written_order() {
        let text = "[fleet]\nclients = 5\narchitecture = { x86 = 1, x64 = 3 }\n\
                    language = { 1031 = 2, 1033 = 2 }\nmodel = \"Latitude 7490\"\n";
        with_doc(text, |ctx, doc| {
            let mut errors = Vec::new();
            let f = read_fleet(ctx, value::get(doc, "fleet"), &mut errors);
            assert!(errors.is_empty(), "{errors:?}");
            assert_eq!(f.clients, 5);
            assert_eq!(
                f.architecture.items,
                vec![(Arch::X86, 0.25), (Arch::X64, 0.75)]
            );
            assert_eq!(f.language.items, vec![(1031, 0.5), (1033, 0.5)]);
            assert_eq!(f.model.items, vec![("Latitude 7490".to_string(), 1.0)]);
            assert_eq!(f.os, defaults::os());
        });
    }

    #[test]
    fn bad_weights_are_each_reported() {
        let text = "[fleet]\nclients = 5\narchitecture = { x64 = 0, x86 = 0 }\n\
                    power = { ac = -1 }\nnetwork = { lan = 1 }\nlanguage = { en = 1 }\n\
                    os = { win7 = 1, win10 = \"a lot\" }\n";
        let errors = doc_errors(text, |ctx, doc, errors| {
            read_fleet(ctx, value::get(doc, "fleet"), errors);
        });
        let mut errors = errors;
        errors.sort_by_key(|d| d.line);
        let keys: Vec<(usize, &str)> = errors.iter().map(|d| (d.line, d.key.as_str())).collect();
        assert_eq!(
            keys,
            [
                (3, "fleet.architecture"),
                (4, "fleet.power.ac"),
                (5, "fleet.network.lan"),
                (6, "fleet.language.en"),
                (7, "fleet.os.win10")
            ]
        );
        assert!(errors[0].message.contains("sum to 0"));
        assert!(errors[2].message.contains("wired, wireless, vpn"));
    }

    #[test]
    fn clients_must_be_an_integer_in_range() {
        for (text, needle) in [
            (
                "[fleet]\nclients = 1e6\n",
                "found a float, expected an integer",
            ),
            ("[fleet]\nclients = 0\n", "from 1 to 4294967295"),
            ("[fleet]\nclients = 4294967296\n", "from 1 to 4294967295"),
            ("[fleet]\nclients = \"10\"\n", "found a string"),
            ("[fleet]\nos = \"win7\"\n", "missing required key `clients`"),
        ] {
            let errors = doc_errors(text, |ctx, doc, errors| {
                read_fleet(ctx, value::get(doc, "fleet"), errors);
            });
            assert_eq!(errors.len(), 1, "{text}: {errors:?}");
            assert!(errors[0].message.contains(needle), "{text}: {errors:?}");
        }
    }

    #[test]
    fn network_caps_must_be_positive_rates() {
        let text = "[network]\nwired = \"0Mbps\"\nwireless = \"54Mbps\"\nvpn = \"2GB\"\n";
        let mut caps = None;
        let errors = doc_errors(text, |ctx, doc, errors| {
            caps = Some(read_network(ctx, value::get(doc, "network"), errors));
        });
        assert_eq!(errors.len(), 2);
        assert_eq!((errors[0].line, errors[1].line), (2, 4));
        assert_eq!(caps.map(|c| c.wireless), Some(54_000_000));
    }
}
