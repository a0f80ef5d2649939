//! The iCalendar feed (issue 7, "iCalendar"): a member's due items as all-day events, rendered
//! per RFC 5545 by [`render`] (a pure function), and the events of a tenant
//! ([`due_events_for_calendar`]). Written by hand rather than with a crate: see
//! `docs/adr/0015-icalendar.md`.
//!
//! What the rendering follows, by RFC 5545 section:
//! - 3.1: content lines end in CRLF and are folded so that no line is longer than 75 octets
//!   (excluding the CRLF); a folded line continues with a single space. We fold on a UTF-8
//!   character boundary, so a multi-byte character is never split (3.1 allows splitting one,
//!   but many readers then show mojibake).
//! - 3.3.11: in TEXT values a backslash, a semicolon and a comma are escaped with a backslash,
//!   and a line break is written `\n`.
//! - 3.3.4 and 3.8.2.4: an all-day event has `DTSTART;VALUE=DATE:yyyymmdd`; 3.6.1: its
//!   `DTEND` (exclusive) is the next day.
//! - 3.8.7.2: `DTSTAMP` is required in a VEVENT of a published feed (no METHOD); it is given in
//!   UTC (`yyyymmddThhmmssZ`).
//! - 3.8.4.7: `UID` is the item's stable uid (`grc_domain::reminders::calendar_uid`), so a
//!   calendar app updates an event when its date moves instead of adding another.
//! - 3.7.3 and 3.7.4: the calendar has `PRODID` and `VERSION:2.0`; `X-WR-CALNAME` (a widely
//!   read extension) names it.

use chrono::{DateTime, NaiveDate, Utc};
use grc_domain::reminders::{DueKind, calendar_uid};
use grc_store::{StoreError, TenantTx};
use uuid::Uuid;

/// The product identifier of the feed (RFC 5545 3.7.3).
pub const PRODID: &str = "-//grc//reminders//EN";
/// The longest content line, in octets, without its CRLF (RFC 5545 3.1).
pub const MAX_LINE_OCTETS: usize = 75;

/// One all-day event of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEvent {
    /// The stable uid (`calendar_uid`).
    pub uid: String,
    /// The due date (the event's day).
    pub date: NaiveDate,
    pub summary: String,
    pub description: Option<String>,
    /// A link to the item, if the server knows one.
    pub url: Option<String>,
    /// When the event's content was last computed (`DTSTAMP`).
    pub stamp: DateTime<Utc>,
}

/// Escapes a TEXT value (RFC 5545 3.3.11): `\` `;` `,` get a backslash, line breaks become `\n`
/// (a CRLF pair and a lone CR count as one break).
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded (RFC 5545 3.1): at most 75 octets a line, continuations
/// start with a space (which counts in the 75), never splitting a UTF-8 character; CRLF after
/// each physical line.
pub fn push_folded(out: &mut String, line: &str) {
    let mut limit = MAX_LINE_OCTETS;
    let mut start = 0;
    let mut first = true;
    while start < line.len() {
        let rest = &line[start..];
        let mut end = rest.len().min(limit);
        while end < rest.len() && !rest.is_char_boundary(end) {
            end -= 1;
        }
        if !first {
            out.push(' ');
        }
        out.push_str(&rest[..end]);
        out.push_str("\r\n");
        start += end;
        first = false;
        // A continuation line's leading space takes one of its 75 octets.
        limit = MAX_LINE_OCTETS - 1;
    }
    if first {
        out.push_str("\r\n");
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

fn day(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// Renders a calendar named `calendar_name` holding `events` as an iCalendar object (RFC 5545),
/// CRLF line endings, folded at 75 octets.
pub fn render(calendar_name: &str, events: &[CalendarEvent]) -> String {
    let mut out = String::new();
    let mut line = |s: &str| push_folded(&mut out, s);
    line("BEGIN:VCALENDAR");
    line("VERSION:2.0");
    line(&format!("PRODID:{PRODID}"));
    line("CALSCALE:GREGORIAN");
    line(&format!("X-WR-CALNAME:{}", escape_text(calendar_name)));
    for e in events {
        line("BEGIN:VEVENT");
        line(&format!("UID:{}", e.uid));
        line(&format!("DTSTAMP:{}", stamp(e.stamp)));
        line(&format!("DTSTART;VALUE=DATE:{}", day(e.date)));
        let next = e.date.succ_opt().unwrap_or(e.date);
        line(&format!("DTEND;VALUE=DATE:{}", day(next)));
        line(&format!("SUMMARY:{}", escape_text(&e.summary)));
        if let Some(d) = &e.description {
            line(&format!("DESCRIPTION:{}", escape_text(d)));
        }
        if let Some(u) = &e.url {
            // URL is a URI value (3.3.13), not TEXT: no escaping, but no line breaks either.
            let u: String = u.chars().filter(|c| !c.is_control()).collect();
            line(&format!("URL:{u}"));
        }
        line("TRANSP:TRANSPARENT");
        line("END:VEVENT");
    }
    line("END:VCALENDAR");
    out
}

/// The tenant's open due items as calendar events, as of `today`: every tracked item not yet
/// resolved (`TenantTx::due_items`, computed from the live rows), at most one event per subject
/// and kind (the earliest date), so its uid stays stable when the date moves. Sorted by date,
/// then uid.
pub async fn due_events_for_calendar(
    tx: &TenantTx,
    today: NaiveDate,
) -> Result<Vec<CalendarEvent>, StoreError> {
    let tenant: Uuid = tx.scope().tenant_id().0;
    let stamp = grc_domain::audit::truncate_to_micros(Utc::now());
    let mut earliest: std::collections::HashMap<(Uuid, DueKind), grc_store::TrackedDue> =
        std::collections::HashMap::new();
    for item in tx.due_items(today).await? {
        if item.resolved {
            continue;
        }
        match earliest.get(&(item.subject_id, item.kind)) {
            Some(seen) if seen.due_on <= item.due_on => {}
            _ => {
                earliest.insert((item.subject_id, item.kind), item);
            }
        }
    }
    let mut out: Vec<CalendarEvent> = earliest
        .into_values()
        .map(|item| CalendarEvent {
            uid: calendar_uid(tenant, item.subject_id, item.kind),
            date: item.due_on,
            summary: format!("{} {}", item.title, item.kind.phrase()),
            description: Some(format!(
                "{}: {} on {}.",
                item.title,
                item.kind.phrase(),
                item.due_on
            )),
            url: None,
            stamp,
        })
        .collect();
    out.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| a.uid.cmp(&b.uid)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 8, 30, 0).single().unwrap()
    }

    /// RFC 5545 3.3.11: backslash, semicolon and comma are escaped; a line break is `\n`.
    #[test]
    fn text_is_escaped() {
        assert_eq!(escape_text(r"a\b;c,d"), r"a\\b\;c\,d");
        assert_eq!(
            escape_text("one\ntwo\r\nthree\rfour"),
            r"one\ntwo\nthree\nfour"
        );
        // A colon needs no escape in a value (only the first colon of a line separates).
        assert_eq!(escape_text("Audit: stage 2"), "Audit: stage 2");
    }

    /// RFC 5545 3.1: a line of exactly 75 octets is not folded; 76 octets fold into 75 + 1,
    /// the continuation being " " plus the last octet.
    #[test]
    fn lines_fold_at_75_octets() {
        let mut out = String::new();
        push_folded(&mut out, &"a".repeat(75));
        assert_eq!(out, format!("{}\r\n", "a".repeat(75)));
        let mut out = String::new();
        push_folded(&mut out, &"a".repeat(76));
        assert_eq!(out, format!("{}\r\n a\r\n", "a".repeat(75)));
        // 75 + 74 + 1 = 150 octets: the second physical line holds 74 (plus its space).
        let mut out = String::new();
        push_folded(&mut out, &"b".repeat(150));
        assert_eq!(
            out,
            format!("{}\r\n {}\r\n b\r\n", "b".repeat(75), "b".repeat(74))
        );
    }

    /// A long UTF-8 summary: "SUMMARY:" is 8 octets, then 40 "é" of 2 octets each (88 octets
    /// in all). The first line may hold 75 octets: 8 + 2 × 33 = 74, and a 34th "é" would end
    /// at 76, so the line stops at 74 octets rather than split the character. The remaining
    /// 7 "é" (14 octets) fit on the continuation line after its space.
    #[test]
    fn folding_never_splits_a_multibyte_character() {
        let summary = "é".repeat(40);
        let mut out = String::new();
        push_folded(&mut out, &format!("SUMMARY:{summary}"));
        let expected = format!("SUMMARY:{}\r\n {}\r\n", "é".repeat(33), "é".repeat(7));
        assert_eq!(out, expected);
        // And with 80: 33 on the first line, 37 on the second (1 + 74 = 75 octets), 10 on the
        // third.
        let mut out = String::new();
        push_folded(&mut out, &format!("SUMMARY:{}", "é".repeat(80)));
        let expected = format!(
            "SUMMARY:{}\r\n {}\r\n {}\r\n",
            "é".repeat(33),
            "é".repeat(37),
            "é".repeat(10)
        );
        assert_eq!(out, expected);
        for l in out.split("\r\n") {
            assert!(l.len() <= 75, "{l:?} is {} octets", l.len());
        }
        // A 3-octet character ("€"): 8 + 3 × 22 = 74, a 23rd would make 77.
        let mut out = String::new();
        push_folded(&mut out, &format!("SUMMARY:{}", "€".repeat(30)));
        let expected = format!("SUMMARY:{}\r\n {}\r\n", "€".repeat(22), "€".repeat(8));
        assert_eq!(out, expected);
    }

    /// A whole calendar with one all-day event, written out by hand from RFC 5545: DTSTART as a
    /// DATE, DTEND the next day (3.6.1: exclusive), DTSTAMP in UTC, TEXT escaped, CRLF.
    #[test]
    fn one_all_day_event() {
        let e = CalendarEvent {
            uid: "0b4f-uid@grc".into(),
            date: NaiveDate::from_ymd_opt(2028, 2, 29).unwrap(),
            summary: "ISO/IEC 27001 certificate C-1 expires".into(),
            description: Some("Scope: clinical systems; sites A, B\nRenew it.".into()),
            url: Some("https://grc.example/certificates/1".into()),
            stamp: at(2026, 11, 29),
        };
        let got = render("Acme, reminders", &[e]);
        let expected = "BEGIN:VCALENDAR\r\n\
            VERSION:2.0\r\n\
            PRODID:-//grc//reminders//EN\r\n\
            CALSCALE:GREGORIAN\r\n\
            X-WR-CALNAME:Acme\\, reminders\r\n\
            BEGIN:VEVENT\r\n\
            UID:0b4f-uid@grc\r\n\
            DTSTAMP:20261129T083000Z\r\n\
            DTSTART;VALUE=DATE:20280229\r\n\
            DTEND;VALUE=DATE:20280301\r\n\
            SUMMARY:ISO/IEC 27001 certificate C-1 expires\r\n\
            DESCRIPTION:Scope: clinical systems\\; sites A\\, B\\nRenew it.\r\n\
            URL:https://grc.example/certificates/1\r\n\
            TRANSP:TRANSPARENT\r\n\
            END:VEVENT\r\n\
            END:VCALENDAR\r\n";
        assert_eq!(got, expected);
    }

    /// An empty feed is still a valid calendar.
    #[test]
    fn empty_calendar() {
        let got = render("Empty", &[]);
        assert_eq!(
            got,
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//grc//reminders//EN\r\n\
             CALSCALE:GREGORIAN\r\nX-WR-CALNAME:Empty\r\nEND:VCALENDAR\r\n"
        );
    }
}
