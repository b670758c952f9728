use super::*;

fn total(parts: &[(i64, Bytes)]) -> (i64, i64) {
    parts
        .iter()
        .fold((0, 0), |(i, o), (_, b)| (i + b.input, o + b.output))
}

#[test]
fn a_bucket_and_its_slot() {
    assert_eq!(FINE.bucket(599), 300);
    assert_eq!(FINE.bucket(600), 600);
    assert_eq!(FINE.bucket(-1), -300);
    assert_eq!(FINE.slot(0), 0);
    assert_eq!(FINE.slot(300), 1);
    assert_eq!(FINE.slot(FINE.span()), 0, "a ring later, the same slot");
    assert_eq!(COARSE.span(), 32 * 86_400);
}

#[test]
fn growth_within_one_bucket_stays_there() {
    let parts = spread(FINE, 310, 590, 1_000, 2_000);
    assert_eq!(
        parts,
        vec![(
            300,
            Bytes {
                input: 1_000,
                output: 2_000
            }
        )]
    );
}

#[test]
fn growth_is_spread_in_proportion_and_adds_up() {
    // 100 s in the first bucket, 300 in the second, 200 in the third.
    let parts = spread(FINE, 200, 800, 6_001, 600);
    let starts: Vec<i64> = parts.iter().map(|(at, _)| *at).collect();
    assert_eq!(starts, vec![0, 300, 600]);
    assert_eq!(parts[0].1.input, 1_000);
    assert_eq!(parts[1].1.input, 3_000);
    assert_eq!(
        parts[2].1.input, 2_001,
        "the remainder goes to the last bucket"
    );
    assert_eq!(parts[0].1.output, 100);
    assert_eq!(total(&parts), (6_001, 600));
}

#[test]
fn growth_without_seconds_goes_to_its_bucket() {
    assert_eq!(spread(FINE, 900, 900, 5, 7)[0].0, 900);
    // A record older than the one before it (clocks): no seconds, its own bucket.
    let parts = spread(FINE, 1_000, 400, 5, 7);
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].0, 300);
}

#[test]
fn a_long_gap_keeps_every_byte_within_the_reach() {
    for ring in RINGS {
        let until = 40 * 86_400 + 17;
        let parts = spread(ring, 0, until, 1 << 40, 1 << 41);
        assert_eq!(total(&parts), (1 << 40, 1 << 41));
        assert_eq!(parts.len(), usize::try_from(ring.reach).unwrap());
        assert_eq!(
            parts[0].0,
            ring.bucket(until) - (ring.reach - 1) * ring.step
        );
        assert!(ring.reach <= ring.slots, "no two buckets of one slot");
    }
}

#[test]
fn negative_growth_adds_nothing() {
    assert_eq!(total(&spread(FINE, 0, 600, -5, -1)), (0, 0));
}

#[test]
fn huge_counters_do_not_overflow() {
    let parts = spread(COARSE, 0, 7_200, i64::MAX, i64::MAX);
    assert_eq!(total(&parts), (i64::MAX, i64::MAX));
}

#[test]
fn periods_by_name() {
    for period in Period::ALL {
        assert_eq!(Period::parse(period.as_str()), Some(period));
    }
    assert_eq!(Period::parse("year"), None);
    assert_eq!(Period::Hour.ring(), FINE);
    assert_eq!(Period::Month.ring(), COARSE);
}

#[test]
fn a_window_ends_where_the_bucket_in_progress_starts() {
    let now = 86_400 * 20 + 3_725;
    assert_eq!(Period::Hour.window(now), (now - 125 - 3_600, now - 125));
    assert_eq!(
        Period::Week.window(now),
        (now - 125 - 7 * 86_400, now - 125)
    );
}

#[test]
fn a_series_has_a_point_per_bucket_with_rates() {
    let now = 1_000_000 * 300 + 17;
    let (from, to) = Period::Hour.window(now);
    let stored = [
        (
            from,
            Bytes {
                input: 300,
                output: 3_000,
            },
        ),
        (
            to - 300,
            Bytes {
                input: 0,
                output: 37_500,
            },
        ),
        // Outside: a bucket in progress and one too old.
        (
            to,
            Bytes {
                input: 9,
                output: 9,
            },
        ),
        (
            from - 300,
            Bytes {
                input: 9,
                output: 9,
            },
        ),
    ];
    let series = series(Period::Hour, now, &stored);
    assert_eq!(series.points.len(), 12);
    assert_eq!(series.points[0].at, from);
    assert_eq!(series.points[0].down_bps, 80);
    assert_eq!(series.points[0].up_bps, 8);
    assert_eq!(series.points[11].down_bps, 1_000);
    assert!(series.points[1..11].iter().all(|p| p.down_bps == 0));
    assert_eq!(series.down.max_bps, 1_000);
    assert_eq!(series.down.bytes, 40_500);
    assert_eq!(series.down.average_bps, 40_500 * 8 / 3_600);
    assert_eq!(series.up.bytes, 300);
}

#[test]
fn rates_read_as_people_read_them() {
    assert_eq!(format_bps(0), "0 bit/s");
    assert_eq!(format_bps(950), "950 bit/s");
    assert_eq!(format_bps(12_500), "12.5 kbit/s");
    assert_eq!(format_bps(3_204_000), "3.20 Mbit/s");
    assert_eq!(format_bps(1_050_000_000), "1.05 Gbit/s");
    assert_eq!(format_bps(250_000_000), "250 Mbit/s");
    assert_eq!(format_bps(u64::MAX), "18446744 Tbit/s");
}
