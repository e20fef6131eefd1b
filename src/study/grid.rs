//! `--vary KEY=SPEC`: the values one scenario key takes, and the grid of points that
//! several of them span.
//!
//! SPEC is one of
//!
//! - a list, `V1,V2,...`: each value is passed to the scenario as `--set KEY=V` would
//!   be (a TOML value, or a string such as `2Gbps`). Commas inside `{}`, `[]` or
//!   quotes do not split, so `{ dist = "fixed", value = "1h" },2h` is two values;
//! - an integer range, `1..8` (every integer, both ends included) or `0..100:10`;
//! - a range with units, `1Gbps..10Gbps:1Gbps` (durations, sizes and rates as the
//!   scenario writes them). Values are `LO + k * STEP` up to `HI`; `HI` is included
//!   only when it falls on the grid. A bare end or step takes the unit's bare meaning
//!   (seconds, bytes, bits/s), so `0..30m:5m` is 0, 5m, ... 30m. Values are written in
//!   the first unit the spec names (`500Mbps..2Gbps:250Mbps` gives `500Mbps`,
//!   `750Mbps`, ... `2000Mbps`), which is what the scenario then reads.
//!
//! `fleetsim plan` reads the same ranges but searches them, so there a step is
//! optional (see [`Range::plan_step`]) and `HI` always ends the grid.

use crate::diag::Diagnostic;
use crate::scenario::units::{self, Quantity};

/// Most values one `--vary` may expand to, and most points a grid may hold: larger
/// grids are almost certainly a typo in a step, and would not fit in memory anyway.
pub const MAX_POINTS: usize = 1_000_000;

/// What one `--vary` describes, before expansion.
#[derive(Debug, Clone, PartialEq)]
pub enum Spec {
    /// Explicit values, as written.
    List(Vec<String>),
    /// A numeric range.
    Range(Range),
}

/// A numeric range, in the base units of its quantity (microseconds, bytes, bits/s,
/// or plain numbers), plus the unit its values are written in.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    /// Low end, base units.
    pub lo: f64,
    /// High end, base units.
    pub hi: f64,
    /// Step, base units, when the spec gives one.
    pub step: Option<f64>,
    /// The unit values are written in (`"Gbps"`), empty for plain numbers.
    pub unit: String,
    /// Base units per `unit` (1e9 for `Gbps`, 1e6 for `s`).
    pub scale: f64,
    /// The quantity of the unit; `Number` for plain numbers.
    pub quantity: Quantity,
    /// Plain whole numbers (counts), so the default step is 1 and values stay integers.
    pub integer: bool,
}

/// One parsed `--vary` argument.
#[derive(Debug, Clone, PartialEq)]
pub struct VaryArg {
    /// The argument as given, for messages.
    pub raw: String,
    /// The scenario key (dotted path).
    pub key: String,
    /// Its values.
    pub spec: Spec,
}

/// A key and the values a sweep gives it, in order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Vary {
    /// The scenario key (dotted path).
    pub key: String,
    /// The values, as passed to `--set`.
    pub values: Vec<String>,
}

/// The grid of a sweep: the Cartesian product of its `--vary` lists, in row-major
/// order (the first `--vary` changes slowest), so a point's index is stable and can
/// name its folder.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Grid {
    /// The varied keys, in command-line order.
    pub vary: Vec<Vary>,
}

fn diag(raw: &str, key: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        file: format!("<--vary {raw}>").into(),
        line: 0,
        column: 0,
        key: key.to_string(),
        message: message.into(),
    }
}

/// Parses `KEY=SPEC`.
pub fn parse(raw: &str) -> Result<VaryArg, Diagnostic> {
    let Some((key, spec)) = raw.split_once('=') else {
        return Err(diag(
            raw,
            "",
            "expected KEY=V1,V2,... or KEY=LO..HI[:STEP], e.g. distribution_points.0.bandwidth=1Gbps..4Gbps:1Gbps",
        ));
    };
    let key = key.trim();
    if key.is_empty() || key.split('.').any(|s| s.trim().is_empty()) {
        return Err(diag(raw, key, "expected a dotted scenario key before `=`"));
    }
    let items = split_top(spec);
    if items.iter().any(|s| s.trim().is_empty()) {
        return Err(diag(raw, key, format!("empty value in {spec:?}")));
    }
    let spec = match items.as_slice() {
        [one] if find_top(one, "..").is_some() => {
            Spec::Range(parse_range(one).map_err(|m| diag(raw, key, m))?)
        }
        _ => Spec::List(items.iter().map(|s| s.trim().to_string()).collect()),
    };
    Ok(VaryArg {
        raw: raw.to_string(),
        key: key.to_string(),
        spec,
    })
}

/// Splits on commas that are not inside brackets, braces or quotes.
fn split_top(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

/// Byte offset of `pat` outside quotes and brackets.
fn find_top(s: &str, pat: &str) -> Option<usize> {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            (None, _) if depth == 0 && s[i..].starts_with(pat) => return Some(i),
            _ => {}
        }
    }
    None
}

/// A number and its unit suffix: `2.5Gbps` -> (2.5, "Gbps").
fn split_unit(s: &str) -> Result<(f64, String), String> {
    let s = s.trim();
    let cut = s
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphabetic())
        .last()
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(cut);
    let clean: String = num.trim().chars().filter(|&c| c != '_').collect();
    let v: f64 = clean.parse().map_err(|_| {
        format!("found {s:?}, expected a number with an optional unit (2Gbps, 30m, 500MB)")
    })?;
    if !v.is_finite() {
        return Err(format!("{s:?} is out of range"));
    }
    Ok((v, unit.to_string()))
}

/// The quantity a unit belongs to and its size in base units.
fn unit_of(unit: &str) -> Option<(Quantity, f64)> {
    [Quantity::Duration, Quantity::Size, Quantity::Rate]
        .into_iter()
        .find_map(|q| {
            units::parse_str(q, &format!("1{unit}"))
                .ok()
                .map(|v| (q, v))
        })
}

fn parse_range(s: &str) -> Result<Range, String> {
    let at = find_top(s, "..").ok_or("expected LO..HI")?;
    let lo_s = &s[..at];
    let rest = &s[at + 2..];
    let (hi_s, step_s) = match rest.rsplit_once(':') {
        Some((h, st)) => (h, Some(st)),
        None => (rest, None),
    };
    let lo = split_unit(lo_s)?;
    let hi = split_unit(hi_s)?;
    let step = step_s.map(split_unit).transpose()?;
    let named = [Some(&lo), Some(&hi), step.as_ref()]
        .into_iter()
        .flatten()
        .find(|(_, u)| !u.is_empty())
        .map(|(_, u)| u.clone());
    let (unit, quantity, scale) = match named {
        Some(u) => {
            let (q, scale) = unit_of(&u).ok_or_else(|| {
                format!("unknown unit {u:?}: expected a duration (s, m, h, d), a size (MB, GiB) or a rate (Mbps, Gbps)")
            })?;
            (u, q, scale)
        }
        None => (String::new(), Quantity::Number, 1.0),
    };
    let base = |(v, u): &(f64, String)| -> Result<f64, String> {
        if u.is_empty() {
            return Ok(v * quantity.bare_scale());
        }
        match unit_of(u) {
            Some((q, sc)) if q == quantity => Ok(v * sc),
            _ => Err(format!(
                "{u:?} is not {}, like {unit:?}: a range uses one kind of quantity",
                quantity.expected()
            )),
        }
    };
    let r = Range {
        lo: base(&lo)?,
        hi: base(&hi)?,
        step: step.as_ref().map(base).transpose()?,
        integer: unit.is_empty()
            && [Some(&lo), Some(&hi), step.as_ref()]
                .into_iter()
                .flatten()
                .all(|(v, _)| v.fract() == 0.0),
        unit,
        scale,
        quantity,
    };
    if r.lo > r.hi {
        return Err(format!("the low end is above the high end in {s:?}"));
    }
    if let Some(st) = r.step
        && (st <= 0.0 || !st.is_finite())
    {
        return Err(format!("the step must be positive in {s:?}"));
    }
    Ok(r)
}

/// Writes a number without float noise: at most nine decimals, trailing zeros dropped.
pub fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    let s = format!("{x:.9}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

impl Range {
    /// Value `k` of the grid `LO + k * step`, in the range's unit, rounded to nine
    /// decimals of that unit so that `0.1 + 0.2` is written `0.3`.
    fn nth(&self, step: f64, k: u64) -> f64 {
        let v = self.lo / self.scale + k as f64 * (step / self.scale);
        (v * 1e9).round() / 1e9
    }

    /// How a value (in the range's unit) is written for `--set`.
    pub fn format(&self, v: f64) -> String {
        format!("{}{}", fmt_num(v), self.unit)
    }

    /// The values of a sweep: `LO, LO + STEP, ...` while not above `HI`. A step is
    /// required unless the range is of whole numbers (then it is 1).
    pub fn sweep_values(&self) -> Result<Vec<String>, String> {
        let step = match (self.step, self.integer) {
            (Some(s), _) => s,
            (None, true) => 1.0,
            (None, false) => {
                return Err(format!(
                    "give a step for a range with units or fractions, e.g. LO..HI:{}",
                    self.format(1.0)
                ));
            }
        };
        let n = ((self.hi - self.lo) / step * (1.0 + 1e-12) + 1e-9).floor() + 1.0;
        if !(n >= 1.0 && n <= MAX_POINTS as f64) {
            return Err(format!(
                "the range has {n:.0} values; at most {MAX_POINTS} are allowed"
            ));
        }
        Ok((0..n as u64)
            .map(|k| self.format(self.nth(step, k)))
            .collect())
    }

    /// The search grid of `plan`: the given step, else 1 for whole numbers, else the
    /// 1-2-5 step just below a thousandth of the range (a 0.1% to 0.2% tolerance).
    pub fn plan_step(&self) -> f64 {
        if let Some(s) = self.step {
            return s;
        }
        if self.integer {
            return 1.0;
        }
        let span = (self.hi - self.lo) / self.scale / 1000.0;
        if span <= 0.0 {
            return self.scale;
        }
        let p = 10f64.powf(span.log10().floor());
        let m = [5.0, 2.0, 1.0]
            .into_iter()
            .find(|m| m * p <= span)
            .unwrap_or(1.0);
        m * p * self.scale
    }

    /// Number of intervals of the plan grid: value `K` is `HI`.
    pub fn plan_intervals(&self, step: f64) -> u64 {
        let k = ((self.hi - self.lo) / step - 1e-9).ceil().max(0.0);
        k.min(MAX_POINTS as f64) as u64
    }

    /// Value `k` of the plan grid (`HI` for the last), in the range's unit.
    pub fn plan_value(&self, step: f64, k: u64) -> f64 {
        if k >= self.plan_intervals(step) {
            (self.hi / self.scale * 1e9).round() / 1e9
        } else {
            self.nth(step, k)
        }
    }
}

impl VaryArg {
    /// The values a sweep gives the key.
    pub fn sweep_values(&self) -> Result<Vary, Diagnostic> {
        let values = match &self.spec {
            Spec::List(v) => v.clone(),
            Spec::Range(r) => r
                .sweep_values()
                .map_err(|m| diag(&self.raw, &self.key, m))?,
        };
        Ok(Vary {
            key: self.key.clone(),
            values,
        })
    }
}

impl Grid {
    /// The grid of several `--vary` arguments.
    pub fn from_args(args: &[String]) -> Result<Grid, Diagnostic> {
        let mut vary: Vec<Vary> = Vec::new();
        for a in args {
            let v = parse(a)?.sweep_values()?;
            if vary.iter().any(|x| x.key == v.key) {
                return Err(diag(a, &v.key, "this key is already varied"));
            }
            vary.push(v);
        }
        let g = Grid { vary };
        if g.len().is_none() {
            return Err(diag(
                args.join(" ").as_str(),
                "",
                format!("the grid has more than {MAX_POINTS} points"),
            ));
        }
        Ok(g)
    }

    /// Number of points (1 when nothing varies), `None` above [`MAX_POINTS`].
    pub fn len(&self) -> Option<usize> {
        self.vary
            .iter()
            .try_fold(1usize, |n, v| n.checked_mul(v.values.len()))
            .filter(|&n| n <= MAX_POINTS)
    }

    /// True when no value varies (a grid of one point).
    pub fn is_empty(&self) -> bool {
        self.vary.is_empty()
    }

    /// The `(key, value)` assignments of point `i` (row-major; the last key changes
    /// fastest).
    pub fn point(&self, i: usize) -> Vec<(String, String)> {
        let mut rest = i;
        let mut out = vec![(String::new(), String::new()); self.vary.len()];
        for (slot, v) in out.iter_mut().zip(&self.vary).rev() {
            let n = v.values.len().max(1);
            let value = v.values.get(rest % n).cloned().unwrap_or_default();
            *slot = (v.key.clone(), value);
            rest /= n;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(raw: &str) -> Vec<String> {
        parse(raw)
            .expect("parses")
            .sweep_values()
            .expect("expands")
            .values
    }

    #[test]
    fn lists_split_at_top_level_commas_only() {
        assert_eq!(values("a.b=1,2,3"), ["1", "2", "3"]);
        assert_eq!(
            values("client.policy_poll={ dist = \"uniform\", min = \"0s\", max = \"1h\" },5m"),
            ["{ dist = \"uniform\", min = \"0s\", max = \"1h\" }", "5m"]
        );
        assert_eq!(values("name=\"a,b\",c"), ["\"a,b\"", "c"]);
        assert!(parse("a=1,,2").is_err());
        assert!(parse("=1").is_err());
        assert!(parse("a..b=1").is_err());
        assert!(parse("novalue").is_err());
    }

    #[test]
    fn integer_and_unit_ranges() {
        assert_eq!(values("k=1..4"), ["1", "2", "3", "4"]);
        assert_eq!(values("k=0..10:5"), ["0", "5", "10"]);
        assert_eq!(
            values("k=1Gbps..4Gbps:1Gbps"),
            ["1Gbps", "2Gbps", "3Gbps", "4Gbps"]
        );
        assert_eq!(
            values("k=500Mbps..1Gbps:250Mbps"),
            ["500Mbps", "750Mbps", "1000Mbps"]
        );
        // HI off the grid is not included; no float noise in the values.
        assert_eq!(values("k=1Gbps..10Gbps:4Gbps"), ["1Gbps", "5Gbps", "9Gbps"]);
        assert_eq!(
            values("k=0.1..0.5:0.1"),
            ["0.1", "0.2", "0.3", "0.4", "0.5"]
        );
        // Bare ends take the unit's bare meaning (seconds).
        assert_eq!(values("k=0..30m:10m"), ["0m", "10m", "20m", "30m"]);
        assert_eq!(values("k=1GB..2GB:500MB"), ["1GB", "1.5GB", "2GB"]);
    }

    #[test]
    fn bad_ranges_say_why() {
        let e = parse("k=1Gbps..4Gbps")
            .expect("parses")
            .sweep_values()
            .expect_err("needs a step");
        assert!(e.message.contains("give a step"), "{}", e.message);
        assert!(parse("k=4..1").is_err());
        assert!(parse("k=1..4:0").is_err());
        assert!(parse("k=1..4:-1").is_err());
        assert!(parse("k=1Gbps..4h:1h").is_err());
        assert!(parse("k=1parsec..2parsec:1parsec").is_err());
        assert!(parse("k=x..y").is_err());
        let e = parse("k=0..1e12")
            .expect("parses")
            .sweep_values()
            .expect_err("huge");
        assert!(e.message.contains("at most"), "{}", e.message);
    }

    #[test]
    fn grid_is_row_major() {
        let g = Grid::from_args(&["a=1,2".into(), "b=x,y,z".into()]).expect("grid");
        assert_eq!(g.len(), Some(6));
        let p = |i| {
            g.point(i)
                .into_iter()
                .map(|(_, v)| v)
                .collect::<Vec<_>>()
                .join("/")
        };
        assert_eq!(
            (0..6).map(p).collect::<Vec<_>>(),
            ["1/x", "1/y", "1/z", "2/x", "2/y", "2/z"]
        );
        assert!(Grid::from_args(&["a=1".into(), "a=2".into()]).is_err());
        let big = ["a=1..1000".to_string(), "b=1..1000".into(), "c=1..2".into()];
        assert!(Grid::from_args(&big).is_err());
    }

    #[test]
    fn plan_grid_ends_at_hi() {
        let Spec::Range(r) = parse("k=100Mbps..1Gbps").expect("ok").spec else {
            panic!("a range")
        };
        let st = r.plan_step();
        assert_eq!(st, 0.5e6, "1-2-5 step below 0.9 Mbps");
        let k = r.plan_intervals(st);
        assert_eq!(k, 1800);
        assert_eq!(r.format(r.plan_value(st, 0)), "100Mbps");
        assert_eq!(r.format(r.plan_value(st, 1)), "100.5Mbps");
        assert_eq!(r.format(r.plan_value(st, k)), "1000Mbps");
        let Spec::Range(r) = parse("k=1..10:4").expect("ok").spec else {
            panic!("a range")
        };
        let k = r.plan_intervals(4.0);
        assert_eq!(
            (k, r.plan_value(4.0, 2), r.plan_value(4.0, k)),
            (3, 9.0, 10.0)
        );
    }
}
