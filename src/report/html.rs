//! HTML building blocks for a page that works offline and forever: one file, styles
//! inline, charts as inline SVG, no script, no web font, no link to anything.

use std::fmt::Write;

use crate::output::plots::Figure;

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Seconds as a readable duration (`42.0s`, `3.5m`, `7.2h`, `2.1d`); `-` when not
/// finite (a figure the run could not compute).
pub fn dur(s: f64) -> String {
    if s.is_finite() {
        human_secs(s)
    } else {
        "-".into()
    }
}

/// Seconds as a short human duration (`42.0s`, `3.5m`, `7.2h`, `2.1d`): the one
/// ladder the report pages and the terminal tables share.
pub fn human_secs(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.1}s")
    } else if s < 7200.0 {
        format!("{:.1}m", s / 60.0)
    } else if s < 172_800.0 {
        format!("{:.1}h", s / 3600.0)
    } else {
        format!("{:.1}d", s / 86400.0)
    }
}

/// Bytes in decimal units (`67.16 TB`, `3.4 GB`).
pub fn bytes(b: f64) -> String {
    if b >= 1e12 {
        format!("{:.2} TB", b / 1e12)
    } else if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{b:.0} B")
    }
}

/// Bits per second (`20.00 Gbps`, `150.0 Mbps`).
pub fn rate(bps: f64) -> String {
    if bps >= 1e9 {
        format!("{:.2} Gbps", bps / 1e9)
    } else if bps >= 1e6 {
        format!("{:.1} Mbps", bps / 1e6)
    } else {
        format!("{:.0} kbps", bps / 1e3)
    }
}

/// A count with thousands separators.
pub fn count(n: u64) -> String {
    crate::output::plots::style::fmt_count(n as f64)
}

/// A share as a percentage with one decimal.
pub fn pct(part: u64, whole: u64) -> String {
    format!("{:.1}%", 100.0 * part as f64 / whole.max(1) as f64)
}

/// Whether a cell reads as a figure (right-aligned): starts with a digit or a sign,
/// or is one of the placeholders for a missing figure.
fn is_figure(cell: &str) -> bool {
    matches!(cell, "" | "-" | "n/a" | "none" | "same" | "differs")
        || cell
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '-' || c == '+')
}

/// A table: header cells and rows of already-escaped HTML cells. Columns whose cells
/// are all figures are right-aligned; the first column never is.
pub fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let numeric: Vec<bool> = (0..head.len())
        .map(|i| i > 0 && rows.iter().all(|r| r.get(i).is_none_or(|c| is_figure(c))))
        .collect();
    let cls = |i: usize| {
        if numeric.get(i).copied().unwrap_or(false) {
            " class=\"num\""
        } else {
            ""
        }
    };
    let mut o = String::from("<table>\n<thead><tr>");
    for (i, h) in head.iter().enumerate() {
        let _ = write!(o, "<th{}>{}</th>", cls(i), esc(h));
    }
    o.push_str("</tr></thead>\n<tbody>\n");
    for r in rows {
        o.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            let _ = write!(o, "<td{}>{c}</td>", cls(i));
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody>\n</table>\n");
    o
}

/// Headline cards: `(label, value, note)`, all plain text.
pub fn cards(items: &[(String, String, String)]) -> String {
    let mut o = String::from("<div class=\"cards\">\n");
    for (label, value, note) in items {
        let _ = writeln!(
            o,
            "<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\">{}</div><div class=\"note\">{}</div></div>",
            esc(label),
            esc(value),
            esc(note)
        );
    }
    o.push_str("</div>\n");
    o
}

/// An inline chart. The SVG namespace attribute is dropped (HTML does not need it and
/// the page then names no URL at all); the chart scales to the page width.
pub fn figure(id: &str, f: &Figure) -> String {
    let svg = f
        .svg
        .replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1)
        .replacen(
            "<svg ",
            &format!("<svg role=\"img\" aria-label=\"{}\" ", esc(&f.title)),
            1,
        );
    format!(
        "<figure id=\"{}\">\n<figcaption>{}</figcaption>\n{}\n</figure>\n",
        esc(id),
        esc(&f.title),
        svg.trim()
    )
}

/// Text shown as-is (a scenario file).
pub fn pre(text: &str) -> String {
    format!("<pre>{}</pre>\n", esc(text))
}

const CSS: &str = r#"
:root { color-scheme: light; }
body { margin: 0; background: #f4f5f7; color: #1d2330;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 48px; }
header h1 { margin: 0 0 4px; font-size: 28px; }
header p { margin: 0; color: #5a6375; }
h2 { margin: 36px 0 12px; font-size: 21px; border-bottom: 2px solid #d9dde5; padding-bottom: 4px; }
h3 { margin: 24px 0 8px; font-size: 17px; }
section.run { margin-top: 40px; padding-top: 8px; border-top: 6px solid #4e79a7; }
section.run.b { border-top-color: #f28e2b; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 12px; }
.card { background: #fff; border: 1px solid #d9dde5; border-radius: 8px; padding: 12px 14px; }
.card .label { color: #5a6375; font-size: 13px; text-transform: uppercase; letter-spacing: .03em; }
.card .value { font-size: 24px; font-weight: 600; margin: 2px 0; }
.card .note { color: #5a6375; font-size: 13px; min-height: 1em; }
figure { margin: 16px 0; background: #fff; border: 1px solid #d9dde5; border-radius: 8px; padding: 10px; }
figcaption { font-weight: 600; margin: 0 0 6px 4px; }
figure svg { display: block; width: 100%; height: auto; }
table { border-collapse: collapse; background: #fff; border: 1px solid #d9dde5; margin: 8px 0 16px;
  font-variant-numeric: tabular-nums; }
th, td { padding: 5px 12px; border-bottom: 1px solid #e6e8ee; text-align: left; vertical-align: top; }
th { background: #eef0f4; font-weight: 600; }
td.num, th.num { text-align: right; }
tr:last-child td { border-bottom: none; }
td.up { color: #b03a2e; } td.down { color: #1e7b34; }
pre { background: #fff; border: 1px solid #d9dde5; border-radius: 8px; padding: 12px;
  overflow-x: auto; font: 13px/1.4 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
p.empty { color: #5a6375; font-style: italic; }
.verdict { background: #fff; border: 2px solid #4e79a7; border-radius: 8px; padding: 4px 16px; margin: 12px 0; }
.verdict li { font-size: 18px; margin: 6px 0; }
.verdict li.met::marker { content: "\2714  "; color: #2e7d32; }
.verdict li.missed { color: #b71c1c; font-weight: 600; }
.verdict li.missed::marker { content: "\2716  "; color: #b71c1c; }
.badge { display: inline-block; background: #e15759; color: #fff; border-radius: 4px;
  padding: 1px 8px; font-size: 13px; vertical-align: middle; }
footer { margin-top: 40px; color: #8a92a3; font-size: 13px; }
"#;

/// The whole document around `body`.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n{body}<footer>Written by fleetsim {} <code>report</code>. This page is self-contained: it loads nothing.</footer>\n</main>\n</body>\n</html>\n",
        esc(title),
        env!("CARGO_PKG_VERSION"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn figures_drop_the_namespace_url() {
        let f = Figure {
            name: "x",
            title: "T <1>".into(),
            svg: "<svg width=\"10\" height=\"10\" viewBox=\"0 0 10 10\" xmlns=\"http://www.w3.org/2000/svg\">\n</svg>\n".into(),
        };
        let h = figure("fig-x", &f);
        assert!(!h.contains("http"), "{h}");
        assert!(h.contains("aria-label=\"T &lt;1&gt;\""), "{h}");
    }

    #[test]
    fn only_columns_of_figures_are_right_aligned() {
        let t = table(
            &["step", "type", "ran"],
            &[
                vec!["a".into(), "group".into(), "12".into()],
                vec!["b".into(), "run".into(), "-".into()],
            ],
        );
        assert!(t.contains("<th>type</th><th class=\"num\">ran</th>"), "{t}");
        assert!(t.contains("<td>run</td><td class=\"num\">-</td>"), "{t}");
    }

    #[test]
    fn units_read_naturally() {
        assert_eq!(dur(90.0), "90.0s");
        assert_eq!(dur(3.0 * 86400.0), "3.0d");
        assert_eq!(bytes(67.16e12), "67.16 TB");
        assert_eq!(rate(2e10), "20.00 Gbps");
        assert_eq!(pct(1, 3), "33.3%");
    }
}
