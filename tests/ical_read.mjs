// Read iCalendar files as Thunderbird and Nextcloud Calendar do, with Mozilla's ical.js (vendored under
// tests/vendor/, tests only): on stdin one .ics text, or a JSON array of them; JSON on stdout.
//
// Prints, for each file, {"method": ..., "events": [{"uid", "start", "end", "start_tzid", "end_tzid"}]},
// each start and end the UTC instant ical.js makes of the property. Each file's own VTIMEZONEs are
// registered with ICAL.TimezoneService first (and no one else's), as a calendar app does; a TZID that no
// VTIMEZONE of the file defines is an error, never a silent floating time.
import ICAL from "./vendor/ical.js";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = Buffer.concat(chunks).toString("utf8");
const many = input.trimStart().startsWith("[");
const results = (many ? JSON.parse(input) : [input]).map(read);
process.stdout.write(JSON.stringify(many ? results : results[0]));

function read(text) {
  const calendar = new ICAL.Component(ICAL.parse(text));
  ICAL.TimezoneService.reset();
  for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(vtimezone);
  }
  const events = calendar.getAllSubcomponents("vevent").map((vevent) => {
    const [start, startTzid] = instant(vevent, "dtstart");
    const [end, endTzid] = instant(vevent, "dtend");
    return { uid: vevent.getFirstPropertyValue("uid"), start, end, start_tzid: startTzid, end_tzid: endTzid };
  });
  return { method: calendar.getFirstPropertyValue("method"), events };
}

function instant(component, name) {
  const property = component.getFirstProperty(name);
  const tzid = property.getParameter("tzid") || null;
  const time = property.getFirstValue();
  if (tzid !== null && (!ICAL.TimezoneService.has(tzid) || time.zone.tzid !== tzid)) {
    throw new Error(`${name} names TZID ${tzid}, which no VTIMEZONE of the file defines`);
  }
  if (tzid === null && time.zone !== ICAL.Timezone.utcTimezone) {
    throw new Error(`${name} is a floating time: ${property.toICALString()}`);
  }
  return [new Date(time.toUnixTime() * 1000).toISOString(), tzid];
}

