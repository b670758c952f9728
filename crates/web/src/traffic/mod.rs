//! Traffic graphs as the panel and the API show them: [`svg`] draws a period's series on the
//! server (axes with their units, download as an area, upload as a line, the average and the
//! maximum of each under it), with no script and no library in the browser; `api` serves
//! the series as JSON and `panel` the drawings and the page around them.

pub mod api;
pub mod panel;

use std::fmt::Write as _;

use chrono::{DateTime, Offset as _, TimeZone as _};
use chrono_tz::Tz;
use domain::traffic::{Period, Series, format_bps};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::error::ApiError;
use crate::i18n::Tr;

/// `?period=`: `hour`, `day` (the default), `week` or `month`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// `hour` and `day`: five-minute points; `week` and `month`: hourly points.
    period: Option<String>,
}

impl PeriodQuery {
    /// The period asked for, `day` when none is.
    pub fn period(&self) -> Result<Period, ApiError> {
        match self.period.as_deref() {
            None | Some("") => Ok(Period::Day),
            Some(name) => Period::parse(name).ok_or_else(|| {
                ApiError::invalid(&domain::field::FieldErrors::one(
                    domain::field::FieldError::new("period", "invalid"),
                ))
            }),
        }
    }
}

/// The drawing's size, in SVG units.
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 240.0;
/// The plot inside it.
const LEFT: f64 = 78.0;
const RIGHT: f64 = 710.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 180.0;

/// `series` as an SVG document titled `title`, its times in `zone`, its words in `t`'s
/// language.
pub fn svg(series: &Series, title: &str, zone: Tz, t: Tr) -> String {
    let top = nice_ceiling(series.down.max_bps.max(series.up.max_bps));
    let span = (series.to - series.from).max(1) as f64;
    let x = |at: i64| LEFT + (at - series.from) as f64 / span * (RIGHT - LEFT);
    let y = |bps: u64| BOTTOM - bps as f64 / top as f64 * (BOTTOM - TOP);
    let mut out = String::with_capacity(8_192 + series.points.len() * 48);
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         width=\"{WIDTH}\" height=\"{HEIGHT}\" role=\"img\" font-family=\"sans-serif\" \
         font-size=\"11\"><title>{}</title>\
         <rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"#ffffff\"/>",
        escape(title)
    );
    // The rate axis: five lines, their rates at the left.
    for i in 0..=4u64 {
        let value = top / 4 * i;
        let at = y(value);
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" y1=\"{at:.1}\" x2=\"{RIGHT}\" y2=\"{at:.1}\" stroke=\"#d5dbe3\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#5f6b7a\">{}</text>",
            LEFT - 6.0,
            at + 4.0,
            escape(&format_bps(value))
        );
    }
    // The time axis: a tick per label step, in the tenant's time.
    let (every, format) = match series.period {
        Period::Hour => (600, "%H:%M"),
        Period::Day => (3 * 3_600, "%H:%M"),
        Period::Week => (86_400, "%a %d"),
        Period::Month => (5 * 86_400, "%d %b"),
    };
    // Ticks fall on the zone's round times at the graph's start.
    let offset = DateTime::from_timestamp(series.from, 0).map_or(0, |t| {
        i64::from(
            zone.offset_from_utc_datetime(&t.naive_utc())
                .fix()
                .local_minus_utc(),
        )
    });
    let mut tick = (series.from + offset).div_euclid(every) * every - offset;
    while tick <= series.to {
        if tick >= series.from {
            let at = x(tick);
            let label = DateTime::from_timestamp(tick, 0)
                .map(|t| {
                    zone.from_utc_datetime(&t.naive_utc())
                        .format(format)
                        .to_string()
                })
                .unwrap_or_default();
            let _ = write!(
                out,
                "<line x1=\"{at:.1}\" y1=\"{TOP}\" x2=\"{at:.1}\" y2=\"{BOTTOM}\" stroke=\"#eef1f5\"/>\
                 <text x=\"{at:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#5f6b7a\">{}</text>",
                BOTTOM + 14.0,
                escape(&label)
            );
        }
        tick += every;
    }
    // Download as an area, upload as a line over it; each point at its bucket's middle.
    let half = series.step / 2;
    if !series.points.is_empty() {
        let mut area = format!("{LEFT:.1},{BOTTOM:.1}");
        let mut line = String::new();
        for p in &series.points {
            let at = x(p.at + half);
            let _ = write!(area, " {at:.1},{:.1}", y(p.down_bps));
            let _ = write!(line, "{at:.1},{:.1} ", y(p.up_bps));
        }
        let _ = write!(area, " {RIGHT:.1},{BOTTOM:.1}");
        let _ = write!(
            out,
            "<polygon class=\"down\" points=\"{area}\" fill=\"#7fb3e6\" stroke=\"#2f6fb0\" \
             stroke-width=\"1\"/>\
             <polyline class=\"up\" points=\"{}\" fill=\"none\" stroke=\"#c0392b\" \
             stroke-width=\"1.5\"/>",
            line.trim_end()
        );
    }
    let _ = write!(
        out,
        "<line x1=\"{LEFT}\" y1=\"{BOTTOM}\" x2=\"{RIGHT}\" y2=\"{BOTTOM}\" stroke=\"#5f6b7a\"/>\
         <line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{BOTTOM}\" stroke=\"#5f6b7a\"/>"
    );
    // The legend: each direction's average and maximum.
    let legend = [
        (
            "#7fb3e6",
            t.t("traffic.download"),
            series.down.average_bps,
            series.down.max_bps,
            210.0,
        ),
        (
            "#c0392b",
            t.t("traffic.upload"),
            series.up.average_bps,
            series.up.max_bps,
            228.0,
        ),
    ];
    for (colour, name, average, max, at) in legend {
        let _ = write!(
            out,
            "<rect x=\"{LEFT}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{colour}\"/>\
             <text x=\"{:.1}\" y=\"{at:.1}\" fill=\"#1f2933\">{}: {} {} · {} {}</text>",
            at - 9.0,
            LEFT + 16.0,
            escape(name),
            escape(t.t("traffic.average")),
            escape(&format_bps(average)),
            escape(t.t("traffic.maximum")),
            escape(&format_bps(max))
        );
    }
    out.push_str("</svg>");
    out
}

/// The top of the rate axis: the least of 1, 2, 2.5 or 5 × 10ⁿ bit/s, times four (the
/// axis's four steps), that holds `max`; 1 kbit/s for an empty graph.
fn nice_ceiling(max: u64) -> u64 {
    let max = max.max(1_000);
    let mut scale: u64 = 1;
    loop {
        for step in [10u64, 20, 25, 50] {
            let top = step.saturating_mul(scale).saturating_mul(4) / 10;
            if top >= max {
                return top;
            }
        }
        if scale > u64::MAX / 100 {
            return u64::MAX;
        }
        scale *= 10;
    }
}

/// `text` safe in SVG's text and attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_top_holds_the_maximum_in_round_steps() {
        assert_eq!(nice_ceiling(0), 1_000);
        assert_eq!(nice_ceiling(1_001), 2_000);
        assert_eq!(nice_ceiling(9_500_000), 10_000_000);
        assert_eq!(nice_ceiling(2_100_000), 4_000_000);
        assert_eq!(nice_ceiling(u64::MAX), u64::MAX);
        for max in [1u64, 999, 12_345, 987_654_321, 1 << 50] {
            assert!(nice_ceiling(max) >= max);
        }
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
