//! Standard MIDI File export of transcribed notes.

use super::Note;

/// Ticks per quarter note in the files [`encode_midi`] writes.
pub const MIDI_TICKS_PER_QUARTER: u16 = 480;

/// Writes `notes` as a format 0 Standard MIDI File: one track on channel 1 with
/// a tempo of `tempo_bpm` (clamped to 20 to 300), program `program` (0-based
/// General MIDI) and a note-on/note-off pair per note.
///
/// Times are converted at the given tempo, so the file plays back at the
/// notes' own times whatever tempo is chosen; the tempo only sets the bar
/// lines a notation program draws.
pub fn encode_midi(notes: &[Note], program: u8, tempo_bpm: f64) -> Vec<u8> {
    let tempo_bpm = if tempo_bpm.is_finite() {
        tempo_bpm.clamp(20.0, 300.0)
    } else {
        120.0
    };
    let ticks_per_second = f64::from(MIDI_TICKS_PER_QUARTER) * tempo_bpm / 60.0;
    let to_ticks = |s: f64| (s.max(0.0) * ticks_per_second).round() as u64;

    // (tick, is_on, key, velocity); offs sort before ons at the same tick so a
    // repeated key is released and then struck.
    let mut events: Vec<(u64, bool, u8, u8)> = Vec::with_capacity(notes.len() * 2);
    for n in notes {
        let key = n.pitch.min(127);
        let on = to_ticks(n.start_s);
        let off = to_ticks(n.end_s).max(on + 1);
        events.push((on, true, key, n.velocity()));
        events.push((off, false, key, 0));
    }
    events.sort_by_key(|&(tick, on, key, _)| (tick, on, key));

    let mut track = Vec::with_capacity(events.len() * 5 + 32);
    // Tempo, in microseconds per quarter note.
    let micros = (60_000_000.0 / tempo_bpm).round() as u32;
    write_var(&mut track, 0);
    track.extend_from_slice(&[0xFF, 0x51, 0x03]);
    track.extend_from_slice(&micros.to_be_bytes()[1..]);
    // 4/4 time, 24 clocks per click, 8 32nds per quarter.
    write_var(&mut track, 0);
    track.extend_from_slice(&[0xFF, 0x58, 0x04, 4, 2, 24, 8]);
    write_var(&mut track, 0);
    track.extend_from_slice(&[0xC0, program.min(127)]);
    let mut last = 0u64;
    for (tick, on, key, vel) in events {
        write_var(&mut track, tick - last);
        last = tick;
        if on {
            track.extend_from_slice(&[0x90, key, vel.clamp(1, 127)]);
        } else {
            track.extend_from_slice(&[0x80, key, 0]);
        }
    }
    write_var(&mut track, 0);
    track.extend_from_slice(&[0xFF, 0x2F, 0x00]);

    let mut out = Vec::with_capacity(track.len() + 22);
    out.extend_from_slice(b"MThd");
    out.extend_from_slice(&6u32.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes()); // format 0
    out.extend_from_slice(&1u16.to_be_bytes()); // one track
    out.extend_from_slice(&MIDI_TICKS_PER_QUARTER.to_be_bytes());
    out.extend_from_slice(b"MTrk");
    out.extend_from_slice(&(track.len() as u32).to_be_bytes());
    out.extend_from_slice(&track);
    out
}

/// Writes a MIDI variable-length quantity (at most four bytes; larger values
/// are clamped to the format's maximum, 0x0FFF_FFFF ticks).
fn write_var(out: &mut Vec<u8>, value: u64) {
    let value = value.min(0x0FFF_FFFF) as u32;
    let mut bytes = [0u8; 4];
    let mut len = 0;
    let mut v = value;
    loop {
        bytes[len] = (v & 0x7F) as u8;
        len += 1;
        v >>= 7;
        if v == 0 {
            break;
        }
    }
    for i in (0..len).rev() {
        let continuation = if i > 0 { 0x80 } else { 0 };
        out.push(bytes[i] | continuation);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_length_quantities_follow_the_spec() {
        for (value, expected) in [
            (0u64, vec![0x00]),
            (0x40, vec![0x40]),
            (0x7F, vec![0x7F]),
            (0x80, vec![0x81, 0x00]),
            (0x2000, vec![0xC0, 0x00]),
            (0x3FFF, vec![0xFF, 0x7F]),
            (0x0FFF_FFFF, vec![0xFF, 0xFF, 0xFF, 0x7F]),
        ] {
            let mut out = Vec::new();
            write_var(&mut out, value);
            assert_eq!(out, expected, "{value:#x}");
        }
    }

    #[test]
    fn a_note_becomes_on_and_off_events() {
        let notes = [Note {
            start_s: 0.5,
            end_s: 1.0,
            pitch: 60,
            amplitude: 0.5,
        }];
        let smf = encode_midi(&notes, 0, 120.0);
        assert_eq!(&smf[..4], b"MThd");
        assert_eq!(&smf[12..14], &480u16.to_be_bytes());
        let track = &smf[22..];
        // 0.5 s at 120 bpm is one beat (480 ticks = 0x83 0x60), velocity 64.
        let on = [0x83, 0x60, 0x90, 60, 64];
        assert!(track.windows(on.len()).any(|w| w == on), "{track:02x?}");
        let off = [0x83, 0x60, 0x80, 60, 0];
        assert!(track.windows(off.len()).any(|w| w == off), "{track:02x?}");
        assert!(track.ends_with(&[0x00, 0xFF, 0x2F, 0x00]));
    }
}
