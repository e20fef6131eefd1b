//! The calendar behind the time charts: nights and weekends of the first site
//! shaded, its maintenance windows marked. One helper that every time chart calls
//! right after drawing its axes, so the shading sits behind the data.

use plotters::prelude::*;

use super::PlotError;
use super::style::{Drawn, TimeChart, TimeUnit};

/// Pairs `KIND_start` / `KIND_end` of `marks.csv` as `(kind, from_s, to_s)`, in
/// file order (a start without its end is dropped).
pub fn spans<'a>(marks: impl Iterator<Item = (&'a str, f64)>) -> Vec<(String, f64, f64)> {
    let mut out = Vec::new();
    let mut open: Vec<(&str, f64)> = Vec::new();
    for (name, t) in marks {
        if let Some(kind) = name.strip_suffix("_start") {
            open.push((kind, t));
        } else if let Some(kind) = name.strip_suffix("_end")
            && let Some(i) = open.iter().position(|o| o.0 == kind)
        {
            let (k, from) = open.remove(i);
            out.push((k.to_string(), from, t));
        }
    }
    out
}

/// Shades nights (light) and weekends (darker) over the whole height and marks
/// maintenance windows as a green band along the top of a time chart whose
/// x axis is in `unit` and y axis runs to `y_max`.
pub fn shade<DB: DrawingBackend>(
    c: &mut TimeChart<'_, DB>,
    spans: &[(String, f64, f64)],
    unit: TimeUnit,
    y_max: f64,
) -> Result<(), PlotError> {
    if spans.is_empty() {
        return Ok(());
    }
    let x = |s: f64| s / unit.secs;
    let band = y_max * 0.03;
    let rects = spans.iter().filter_map(|(kind, a, b)| {
        let (y0, y1, style) = match kind.as_str() {
            "night" => (0.0, y_max, BLACK.mix(0.06).filled()),
            "weekend" => (0.0, y_max, BLACK.mix(0.12).filled()),
            "window" => (y_max - band, y_max, GREEN.mix(0.45).filled()),
            _ => return None,
        };
        Some(Rectangle::new([(x(*a), y0), (x(*b), y1)], style))
    });
    c.draw_series(rects).drawn()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_starts_with_ends_of_the_same_kind() {
        let m = [
            ("deadline", 5.0),
            ("night_start", 0.0),
            ("window_start", 1.0),
            ("window_end", 2.0),
            ("night_end", 3.0),
            ("weekend_start", 9.0),
        ];
        assert_eq!(
            spans(m.into_iter()),
            vec![
                ("window".to_string(), 1.0, 2.0),
                ("night".to_string(), 0.0, 3.0)
            ]
        );
    }
}
