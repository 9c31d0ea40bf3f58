//! The results: per path and module the median of the rounds with their spread
//! (min–max), the ratio current / baseline, and "app work" (the path minus the no-op in
//! the same round). Printed as one table and written as CSV (long format: one line per
//! metric and path).

use std::fmt::Write as _;
use std::io;
use std::path::Path as FsPath;

use crate::measure::Sample;
use crate::paths::Path;
use crate::wasm::Built;

/// Median, minimum and maximum of some rounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Stat {
    pub(crate) median: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
}

impl Stat {
    pub(crate) fn of(values: &[f64]) -> Stat {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        let median = match v.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => v[n / 2],
            n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        };
        Stat {
            median,
            min: v.first().copied().unwrap_or(f64::NAN),
            max: v.last().copied().unwrap_or(f64::NAN),
        }
    }

    fn cell(self) -> String {
        format!("{:.0} ({:.0}–{:.0})", self.median, self.min, self.max)
    }
}

/// One path's figures for both modules (`[baseline, current]`).
pub(crate) struct Row {
    pub(crate) path: Path,
    pub(crate) status: [u16; 2],
    pub(crate) cpu: [Stat; 2],
    pub(crate) app: [Stat; 2],
    pub(crate) rps: [Stat; 2],
}

/// The rows from the samples (`samples[path][module][round]`, paths in [`Path::ALL`]
/// order, the no-op first).
pub(crate) fn rows(samples: &[[Vec<Sample>; 2]]) -> Vec<Row> {
    let noop = &samples[0];
    Path::ALL
        .iter()
        .zip(samples)
        .map(|(&path, per_module)| {
            let stat = |m: usize, f: &dyn Fn(usize, &Sample) -> f64| {
                let values: Vec<f64> = per_module[m]
                    .iter()
                    .enumerate()
                    .map(|(round, s)| f(round, s))
                    .collect();
                Stat::of(&values)
            };
            let app = |m: usize| {
                stat(m, &|r, s| {
                    s.cpu_us - noop[m].get(r).map_or(0.0, |n| n.cpu_us)
                })
            };
            Row {
                path,
                status: [0, 1].map(|m| per_module[m].last().map_or(0, |s| s.status)),
                cpu: [0, 1].map(|m| stat(m, &|_, s| s.cpu_us)),
                app: [0, 1].map(app),
                rps: [0, 1].map(|m| stat(m, &|_, s| s.rps)),
            }
        })
        .collect()
}

fn ratio(stats: &[Stat; 2]) -> f64 {
    stats[1].median / stats[0].median
}

fn ratio_cell(stats: &[Stat; 2]) -> String {
    let r = ratio(stats);
    if r.is_finite() {
        format!("{r:.2}")
    } else {
        "–".into()
    }
}

/// The table, in Markdown (it goes into the README as is).
pub(crate) fn table(rows: &[Row], builds: &[Built; 2]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| Path | Status | CPU µs/request, baseline | CPU µs/request, current | current ÷ \
         baseline | App work µs (path − no-op), baseline | App work µs, current | req/s, \
         baseline | req/s, current |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
    for row in rows {
        let status = if row.status[0] == row.status[1] {
            row.status[0].to_string()
        } else {
            format!("{} / {}", row.status[0], row.status[1])
        };
        let app = |m: usize| match row.path {
            Path::Noop => "–".to_string(),
            _ => row.app[m].cell(),
        };
        let _ = writeln!(
            out,
            "| {} | {status} | {} | {} | {} | {} | {} | {} | {} |",
            row.path.label(),
            row.cpu[0].cell(),
            row.cpu[1].cell(),
            ratio_cell(&row.cpu),
            app(0),
            app(1),
            row.rps[0].cell(),
            row.rps[1].cell(),
        );
    }
    let size = builds[1].bytes as f64 / builds[0].bytes as f64;
    let _ = writeln!(
        out,
        "| module size (bytes) | | {} | {} | {size:.2} | | | | |",
        builds[0].bytes, builds[1].bytes
    );
    out
}

/// Writes the CSV: `metric,path,baseline_median,baseline_min,baseline_max,current_median,
/// current_min,current_max,ratio` with metrics `cpu_us_per_request`, `app_work_us`,
/// `requests_per_second`, `status` and `module_bytes`.
pub(crate) fn write_csv(path: &FsPath, rows: &[Row], builds: &[Built; 2]) -> io::Result<()> {
    let mut out = String::from(
        "metric,path,baseline_median,baseline_min,baseline_max,current_median,current_min,\
         current_max,ratio\n",
    );
    let mut line = |metric: &str, path: &str, s: &[Stat; 2]| {
        let _ = writeln!(
            out,
            "{metric},{path},{:.1},{:.1},{:.1},{:.1},{:.1},{:.1},{:.3}",
            s[0].median,
            s[0].min,
            s[0].max,
            s[1].median,
            s[1].min,
            s[1].max,
            ratio(s)
        );
    };
    for row in rows {
        let slug = row.path.slug();
        line("cpu_us_per_request", slug, &row.cpu);
        if row.path != Path::Noop {
            line("app_work_us", slug, &row.app);
        }
        line("requests_per_second", slug, &row.rps);
        line(
            "status",
            slug,
            &row.status.map(|s| Stat::of(&[f64::from(s)])),
        );
    }
    line(
        "module_bytes",
        "edge-pubsub.wasm",
        &[0, 1].map(|m| Stat::of(&[builds[m].bytes as f64])),
    );
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_spreads() {
        let s = Stat::of(&[3.0, 1.0, 2.0]);
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        assert_eq!(Stat::of(&[4.0, 1.0, 2.0, 3.0]).median, 2.5);
        assert!(Stat::of(&[]).median.is_nan());
    }

    #[test]
    fn app_work_subtracts_the_same_rounds_noop() {
        let sample = |cpu_us| Sample {
            cpu_us,
            rps: 100.0,
            status: 200,
            precise: true,
        };
        let mut samples: Vec<[Vec<Sample>; 2]> = Path::ALL
            .iter()
            .map(|_| [vec![sample(500.0)], vec![sample(400.0)]])
            .collect();
        samples[1] = [vec![sample(800.0)], vec![sample(600.0)]];
        let rows = rows(&samples);
        assert_eq!(rows[1].app[0].median, 300.0);
        assert_eq!(rows[1].app[1].median, 200.0);
        assert!((ratio(&rows[1].cpu) - 0.75).abs() < 1e-9);
    }
}
