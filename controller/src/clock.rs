//! Wall-clock time and UTC calendar dates, without a date library: the controller needs only
//! "now", calendar days (certificate validity) and two UTC renderings.

/// Unix seconds now (0 if the clock is before 1970).
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// (year, month, day) of a day number since 1970-01-01 (civil-from-days, proleptic Gregorian).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m as u32, d as u32)
}

/// A Unix time split into its UTC date and (hours, minutes, seconds).
fn parts(ts: i64) -> ((i64, u32, u32), (i64, i64, i64)) {
    let secs = ts.rem_euclid(86_400);
    (civil_from_days(ts.div_euclid(86_400)), (secs / 3600, secs % 3600 / 60, secs % 60))
}

/// `YYYY-MM-DD HH:MM:SSZ`.
pub fn utc(ts: i64) -> String {
    let ((y, m, d), (hh, mm, ss)) = parts(ts);
    format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}Z")
}

/// `YYYYMMDDTHHMMSSZ`: sorts by time and is safe in file names.
pub fn stamp(ts: i64) -> String {
    let ((y, m, d), (hh, mm, ss)) = parts(ts);
    format!("{y:04}{m:02}{d:02}T{hh:02}{mm:02}{ss:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(utc(0), "1970-01-01 00:00:00Z");
        assert_eq!(utc(1_600_000_000), "2020-09-13 12:26:40Z");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00Z");
        assert_eq!(stamp(1_600_000_000), "20200913T122640Z");
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(utc(-1), "1969-12-31 23:59:59Z");
    }
}
