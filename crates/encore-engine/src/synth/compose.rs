//! Turns a [`SongSpec`] into note lists for drums, bass, keys and lead.
//!
//! Everything is decided on a sixteenth-note grid and from a seeded generator,
//! so the same spec always yields the same score.  The melody is built from two
//! short motifs arranged as statement, answer, contrast and cadence, which is
//! what makes it sound composed rather than random.

use super::SongSpec;
use super::style::{Fill, Profile};
use super::theory::{Chord, Quality, Rng};

/// One note on the grid; times are in sixteenth-note steps from the song start.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Note {
    /// Onset in steps (fractional when humanised).
    pub start: f64,
    /// Length in steps, before articulation shortens it.
    pub dur: f64,
    /// MIDI key number.
    pub key: u8,
    /// MIDI velocity, 1..=127.
    pub vel: u8,
}

impl Note {
    /// The step at which the note is released.
    fn end(&self) -> f64 {
        self.start + self.dur
    }
}

/// The four parts of a song, ready to be rendered.
#[derive(Clone, Debug)]
pub(crate) struct Score {
    /// Percussion, on the GM drum channel.
    pub drums: Vec<Note>,
    /// Bass line following the chord roots.
    pub bass: Vec<Note>,
    /// Chords, arpeggios or pads.
    pub keys: Vec<Note>,
    /// The melody.
    pub lead: Vec<Note>,
    /// Length of the music in steps, excluding the release tail.
    pub total_steps: u32,
}

/// Drum keys that the fills replace, and that a final hit uses.
const KICK: u8 = 36;
const SNARE: u8 = 38;
const CLOSED_HAT: u8 = 42;
const CRASH: u8 = 49;
/// Grooves keep these going through a fill, because a drummer's other hand does.
const TIMEKEEPERS: [u8; 5] = [44, 51, 54, 56, 70];

/// Shared facts about the song being composed.
struct Ctx<'a> {
    spec: &'a SongSpec,
    profile: &'a Profile,
    /// Bars being rendered, including the final cadence bar.
    bars: u32,
    /// Steps per bar.
    spb: u32,
    /// Bars of the melody's phrases.
    phrase_bars: u32,
    /// Bars before the melody enters.
    intro_bars: u32,
    /// The chord the song ends on.
    final_chord: Chord,
}

impl Ctx<'_> {
    /// The chord sounding in `bar`; the last bar always returns to the tonic.
    fn chord_at_bar(&self, bar: u32) -> Chord {
        if bar + 1 >= self.bars {
            return self.final_chord;
        }
        let prog = self.spec.progression;
        let per = self.spec.bars_per_chord.max(1);
        let idx = (bar / per) as usize % prog.len().max(1);
        prog.get(idx).copied().unwrap_or(self.final_chord)
    }

    /// The chord sounding at an absolute step.
    fn chord_at(&self, step: u32) -> Chord {
        self.chord_at_bar(step / self.spb)
    }

    /// Whether a pitch class belongs to the song's scale.
    fn in_scale(&self, pc: u8) -> bool {
        self.spec
            .mode
            .intervals()
            .iter()
            .any(|i| (self.spec.tonic + i) % 12 == pc)
    }

    /// The notes a melody may use over `chord`, and the chord tones among them.
    ///
    /// Only scale notes are allowed, and a scale note a semitone away from a
    /// chord tone is left out (unless it is one itself), so the lead never
    /// grinds against the harmony.
    fn melody_pool(&self, chord: Chord, lo: u8, hi: u8) -> (Vec<u8>, Vec<u8>) {
        let tones = chord.pitch_classes(self.spec.tonic);
        let mut pool = Vec::new();
        let mut chord_tones = Vec::new();
        for key in lo..=hi {
            let pc = key % 12;
            if !self.in_scale(pc) {
                continue;
            }
            let is_tone = tones.contains(&pc);
            let clashes = tones
                .iter()
                .any(|&t| (pc + 1) % 12 == t || (t + 1) % 12 == pc);
            if is_tone || !clashes {
                pool.push(key);
            }
            if is_tone {
                chord_tones.push(key);
            }
        }
        if pool.is_empty() {
            pool = (lo..=hi).filter(|k| self.in_scale(k % 12)).collect();
        }
        if chord_tones.is_empty() {
            chord_tones = pool.clone();
        }
        (pool, chord_tones)
    }
}

/// Composes all four parts of `spec`, limited to `bars` bars (at least one).
pub(crate) fn compose(spec: &SongSpec, profile: &Profile, bars: u32) -> Score {
    let bars = bars.max(1);
    let spb = profile.steps_per_bar;
    let bar_secs = f64::from(spb) * 15.0 / f64::from(spec.tempo_bpm.max(1));
    // Phrases last roughly four to seven seconds whatever the tempo.
    let phrase_bars = if bar_secs >= 3.0 {
        1
    } else if bar_secs < 1.6 {
        4
    } else {
        2
    };
    let body_bars = bars - 1;
    let n_phrases = if body_bars >= 3 * phrase_bars {
        (body_bars - phrase_bars) / phrase_bars
    } else {
        body_bars / phrase_bars
    };
    let intro_bars = body_bars - n_phrases * phrase_bars;
    let final_quality = match (profile.power_chords, profile.sevenths, spec.mode.is_major()) {
        (true, _, _) => Quality::Power,
        (false, true, true) => Quality::Maj7,
        (false, true, false) => Quality::Min7,
        (false, false, true) => Quality::Major,
        (false, false, false) => Quality::Minor,
    };
    let ctx = Ctx {
        spec,
        profile,
        bars,
        spb,
        phrase_bars,
        intro_bars,
        final_chord: Chord {
            root: 0,
            quality: final_quality,
        },
    };

    let mut score = Score {
        drums: drums(&ctx, &mut Rng::new(spec.seed, "drums")),
        bass: bass(&ctx, &mut Rng::new(spec.seed, "bass")),
        keys: keys(&ctx, &mut Rng::new(spec.seed, "keys")),
        lead: lead(&ctx, &mut Rng::new(spec.seed, "lead"), n_phrases),
        total_steps: bars * spb,
    };
    let end = f64::from(score.total_steps);
    for part in [
        &mut score.drums,
        &mut score.bass,
        &mut score.keys,
        &mut score.lead,
    ] {
        tidy(part, end);
    }
    if profile.keys_legato {
        tie_repeats(&mut score.keys);
    }
    score
}

/// Velocity of a drum pattern symbol, or `None` for a rest.
fn drum_velocity(symbol: u8) -> Option<u8> {
    match symbol {
        b'X' => Some(118),
        b'x' => Some(98),
        b'o' => Some(72),
        b'g' => Some(46),
        _ => None,
    }
}

/// How long a drum note is held; cymbals ring, skins are short.
fn drum_length(key: u8) -> f64 {
    match key {
        49 | 57 => 16.0,
        51 | 53 => 6.0,
        46 => 3.0,
        _ => 4.0,
    }
}

/// Reads a pattern cyclically; patterns are never empty (checked by tests).
fn symbol(pattern: &str, index: u32) -> u8 {
    let bytes = pattern.as_bytes();
    if bytes.is_empty() {
        return b'.';
    }
    bytes[index as usize % bytes.len()]
}

/// Counts the `-` holds after `index`, which extend the note starting there.
fn hold(pattern: &str, index: u32) -> u32 {
    let len = pattern.len() as u32;
    (1..len)
        .take_while(|k| symbol(pattern, index + k) == b'-')
        .count() as u32
}

/// Clamps a velocity into the MIDI range after adding jitter.
fn vel(base: i32, rng: &mut Rng, spread: i32) -> u8 {
    (base + rng.jitter(spread)).clamp(1, 127) as u8
}

/// The groove, with section fills, crashes and a final hit.
fn drums(ctx: &Ctx<'_>, rng: &mut Rng) -> Vec<Note> {
    let spb = ctx.spb;
    let mut out = Vec::new();
    let mut hit = |start: f64, key: u8, v: u8, rng: &mut Rng| {
        // A few milliseconds of looseness keeps the machine from sounding mechanical.
        let nudge = if start > 0.0 {
            rng.jitter(3) as f64 * 0.015
        } else {
            0.0
        };
        out.push(Note {
            start: (start + nudge).max(0.0),
            dur: drum_length(key),
            key,
            vel: v,
        });
    };
    // Sections are counted from the melody's entry, so crashes mark its phrases.
    let section_start =
        |bar: u32| bar > 0 && bar >= ctx.intro_bars && (bar - ctx.intro_bars) % 4 == 0;
    for bar in 0..ctx.bars - 1 {
        let bar_start = bar * spb;
        let section_end = section_start(bar + 1) || bar + 2 == ctx.bars;
        let fill = if ctx.bars >= 4 && section_end {
            ctx.profile.fill
        } else {
            Fill::None
        };
        let fill_from = spb - 4;
        if section_start(bar) {
            hit(f64::from(bar_start), CRASH, 100, rng);
        }
        for line in ctx.profile.drums {
            let replaced = match fill {
                Fill::None => false,
                Fill::HatRoll => line.key == CLOSED_HAT,
                Fill::Toms | Fill::SnareRoll => !TIMEKEEPERS.contains(&line.key),
            };
            for s in 0..spb {
                if replaced && s >= fill_from {
                    continue;
                }
                let Some(base) = drum_velocity(symbol(line.pattern, bar_start + s)) else {
                    continue;
                };
                let v = vel(i32::from(base), rng, 6);
                hit(f64::from(bar_start + s), line.key, v, rng);
            }
        }
        let at = f64::from(bar_start + fill_from);
        match fill {
            Fill::None => {}
            Fill::Toms => {
                for (i, key) in [50u8, 48, 47, 45].into_iter().enumerate() {
                    hit(at + i as f64, key, 84 + 8 * i as u8, rng);
                }
            }
            Fill::SnareRoll => {
                for i in 0..4u8 {
                    hit(at + f64::from(i), SNARE, 64 + 14 * i, rng);
                }
            }
            Fill::HatRoll => {
                for i in 0..8u8 {
                    hit(at + f64::from(i) * 0.5, CLOSED_HAT, 50 + 6 * i, rng);
                }
            }
        }
    }
    let last = f64::from((ctx.bars - 1) * spb);
    hit(last, CRASH, 108, rng);
    hit(last, KICK, 112, rng);
    out
}

/// The bass root for a chord: between E1 and D#2, the range of a bass guitar's
/// lowest strings, shifted by the song's bass octave.
fn bass_root(ctx: &Ctx<'_>, chord: Chord) -> u8 {
    let pc = (ctx.spec.tonic + chord.root) % 12;
    let key = 28 + i32::from((pc + 8) % 12) + 12 * i32::from(ctx.spec.instruments.bass_octave);
    key.clamp(12, 100) as u8
}

/// The bass line: the style's figure applied to each bar's chord.
fn bass(ctx: &Ctx<'_>, rng: &mut Rng) -> Vec<Note> {
    let spb = ctx.spb;
    let pattern = ctx.profile.bass;
    let mut out = Vec::new();
    for bar in 0..ctx.bars - 1 {
        let chord = ctx.chord_at_bar(bar);
        let next = ctx.chord_at_bar(bar + 1);
        let root = bass_root(ctx, chord);
        let next_root = bass_root(ctx, next);
        for s in 0..spb {
            let idx = bar * spb + s;
            let mut sym = symbol(pattern, idx);
            // Before a chord change, sometimes lead into it chromatically.
            if sym == b'R' && s + 4 >= spb && next != chord && rng.chance(0.35) {
                sym = b'A';
            }
            let seventh = chord.quality.intervals().get(3).copied().unwrap_or(12);
            let key = match sym {
                b'R' => root,
                b'F' => root + 7,
                b'L' => root.saturating_sub(5),
                b'O' => root + 12,
                b'T' => root + chord.quality.third(),
                b'S' => root + seventh,
                b'A' if next == chord => root + 7,
                b'A' if next_root > root || rng.chance(0.5) => next_root.saturating_sub(1),
                b'A' => next_root + 1,
                _ => continue,
            };
            let dur = (1 + hold(pattern, idx)).min(spb - s);
            let base = if s % 4 == 0 { 100 } else { 88 };
            out.push(Note {
                start: f64::from(idx),
                dur: f64::from(dur),
                key,
                vel: vel(base, rng, 5),
            });
        }
    }
    let final_root = bass_root(ctx, ctx.final_chord);
    out.push(Note {
        start: f64::from((ctx.bars - 1) * spb),
        dur: f64::from(spb),
        key: final_root,
        vel: 100,
    });
    out
}

/// Lowest key of a keys voicing: E3.
const VOICING_FLOOR: u8 = 52;
/// Where voicings like to sit: around D4.
const VOICING_CENTRE: f64 = 62.0;

/// Chooses the inversion of `chord` closest to the previous voicing, so chord
/// changes move by small steps as a pianist's hands would.
fn voice(ctx: &Ctx<'_>, chord: Chord, prev: &[u8]) -> Vec<u8> {
    let pcs = chord.pitch_classes(ctx.spec.tonic);
    if ctx.profile.power_chords {
        let pc = pcs.first().copied().unwrap_or(0);
        let root = 40 + (pc + 8) % 12;
        return vec![root, root + 7, root + 12];
    }
    let n = pcs.len();
    let mut best: Option<(f64, Vec<u8>)> = None;
    for rotation in 0..n {
        let mut notes: Vec<u8> = Vec::with_capacity(n);
        for k in 0..n {
            let pc = pcs[(rotation + k) % n];
            let floor = notes.last().map_or(VOICING_FLOOR, |&l| l + 1);
            let key = floor + (pc + 12 - floor % 12) % 12;
            notes.push(key);
        }
        for shift in [0u8, 12] {
            let cand: Vec<u8> = notes.iter().map(|&k| k + shift).collect();
            let mean = cand.iter().map(|&k| f64::from(k)).sum::<f64>() / n as f64;
            let centre_cost = (mean - VOICING_CENTRE).abs();
            let score = if prev.len() == n {
                let motion: f64 = cand
                    .iter()
                    .zip(prev)
                    .map(|(&a, &b)| (f64::from(a) - f64::from(b)).abs())
                    .sum();
                motion + 0.5 * centre_cost
            } else {
                2.0 * centre_cost
            };
            if best.as_ref().is_none_or(|(s, _)| score < *s) {
                best = Some((score, cand));
            }
        }
    }
    best.map(|(_, v)| v).unwrap_or_default()
}

/// The keys part: the style's comping or arpeggio pattern over voiced chords.
fn keys(ctx: &Ctx<'_>, rng: &mut Rng) -> Vec<Note> {
    let spb = ctx.spb;
    let pattern = ctx.profile.keys;
    let mut out = Vec::new();
    let mut voicing: Vec<u8> = Vec::new();
    for bar in 0..ctx.bars - 1 {
        voicing = voice(ctx, ctx.chord_at_bar(bar), &voicing);
        for s in 0..spb {
            let idx = bar * spb + s;
            let sym = symbol(pattern, idx);
            let dur = f64::from((1 + hold(pattern, idx)).min(spb - s));
            let accent = if s % 4 == 0 { 6 } else { 0 };
            match sym {
                b'x' => {
                    let v = vel(80 + accent, rng, 4);
                    for &key in &voicing {
                        out.push(Note {
                            start: f64::from(idx),
                            dur,
                            key,
                            vel: v,
                        });
                    }
                }
                b'0'..=b'9' => {
                    let d = usize::from(sym - b'0');
                    let n = voicing.len().max(1);
                    let Some(&base) = voicing.get(d % n) else {
                        continue;
                    };
                    out.push(Note {
                        start: f64::from(idx),
                        dur,
                        key: base + 12 * (d / n) as u8,
                        vel: vel(72 + accent, rng, 5),
                    });
                }
                _ => {}
            }
        }
    }
    let final_voicing = voice(ctx, ctx.final_chord, &voicing);
    for key in final_voicing {
        out.push(Note {
            start: f64::from((ctx.bars - 1) * spb),
            dur: f64::from(spb),
            key,
            vel: 82,
        });
    }
    out
}

/// One note of a melodic motif, relative to the phrase start.
#[derive(Clone, Debug)]
struct MotifNote {
    step: u32,
    dur: u32,
    /// Movement from the previous note, in steps of the melody pool.
    mv: i32,
    /// On a beat, where the melody should sit on a chord tone.
    strong: bool,
}

/// A phrase's rhythm and contour, reusable over different chords.
#[derive(Clone, Debug)]
struct Motif {
    notes: Vec<MotifNote>,
    /// Where the first note sits relative to the lead's centre, in pool steps.
    start_offset: i32,
}

/// What a phrase does in the song's form.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Role {
    /// First statement of the main motif.
    Statement,
    /// The main motif again, ending differently.
    Answer,
    /// The second motif, higher, for contrast.
    Contrast,
    /// The main motif, landing near the tonic before the final bar.
    Cadence,
}

/// Invents a motif: onsets on the grid with beat-weighted probability, a held
/// landing note on a beat, then a breath before the next phrase.
fn make_motif(ctx: &Ctx<'_>, rng: &mut Rng, start_offset: i32) -> Motif {
    let phrase_steps = ctx.phrase_bars * ctx.spb;
    let grid = ctx.profile.melody_grid.max(1);
    let density = ctx.profile.melody_density;
    let long = phrase_steps >= 32;
    let rest = if long { 4 * (1 + rng.below(2)) } else { 4 };
    let land_len = if long { 4 * (1 + rng.below(2)) } else { 4 };
    let land = phrase_steps.saturating_sub(rest + land_len) / 4 * 4;

    let mut onsets: Vec<u32> = Vec::new();
    let mut pos = 0;
    while pos < land {
        let p = if pos % ctx.spb == 0 {
            0.9
        } else if pos % 4 == 0 {
            0.45 + 0.4 * density
        } else {
            0.15 + 0.6 * density
        };
        if rng.chance(p) {
            onsets.push(pos);
        }
        pos += grid;
    }
    if onsets.len() < 2 && land > 0 {
        onsets = vec![0, (land / 2) / grid * grid];
        onsets.dedup();
    }

    let mut notes: Vec<MotifNote> = Vec::new();
    let max_len = 2 * grid.max(3);
    for (i, &step) in onsets.iter().enumerate() {
        let next = onsets.get(i + 1).copied().unwrap_or(land);
        notes.push(MotifNote {
            step,
            dur: (next - step).clamp(1, max_len),
            mv: 0,
            strong: step % 4 == 0,
        });
    }
    notes.push(MotifNote {
        step: land,
        dur: land_len,
        mv: 0,
        strong: true,
    });

    // An arch: rising through the first half of the phrase, falling after,
    // mostly by step with the occasional skip or repeated note.
    let n = notes.len();
    for (i, note) in notes.iter_mut().enumerate().skip(1) {
        let mut dir = if (i as f64) < n as f64 * 0.55 { 1 } else { -1 };
        if rng.chance(0.3) {
            dir = -dir;
        }
        let r = rng.unit();
        let size = if r < 0.55 {
            1
        } else if r < 0.8 {
            2
        } else if r < 0.9 {
            0
        } else {
            3
        };
        note.mv = dir * size;
    }
    Motif {
        notes,
        start_offset,
    }
}

/// Index of the pool note nearest to `key`.
fn nearest_index(pool: &[u8], key: u8) -> usize {
    pool.iter()
        .enumerate()
        .min_by_key(|(_, k)| (i32::from(**k) - i32::from(key)).abs())
        .map_or(0, |(i, _)| i)
}

/// Moves `mv` pool steps from `from`, bouncing off the edges of the range.
fn step_in_pool(pool: &[u8], from: u8, mv: i32) -> u8 {
    if pool.is_empty() {
        return from;
    }
    let idx = nearest_index(pool, from) as i32;
    let last = pool.len() as i32 - 1;
    let mut target = idx + mv;
    if target < 0 || target > last {
        target = idx - mv;
    }
    pool[target.clamp(0, last) as usize]
}

/// The chord tone nearest to `key`, preferring the direction of travel on ties.
fn snap(tones: &[u8], key: u8, dir: i32) -> u8 {
    tones
        .iter()
        .copied()
        .min_by_key(|&t| {
            let dist = (i32::from(t) - i32::from(key)).abs();
            let against = (i32::from(t) - i32::from(key)).signum() == -dir.signum();
            2 * dist + i32::from(against && dist > 0)
        })
        .unwrap_or(key)
}

/// The melody: an intro rest, then phrases in an A A' B A' ... form, then the tonic.
fn lead(ctx: &Ctx<'_>, rng: &mut Rng, n_phrases: u32) -> Vec<Note> {
    let tonic = ctx.spec.tonic;
    let centre = 60 + i32::from(tonic) + if tonic < 5 { 12 } else { 0 };
    let centre = (centre + 12 * i32::from(ctx.spec.instruments.lead_octave)).clamp(30, 100) as u8;
    let lo = centre - 5;
    let hi = centre + 12;
    let main = make_motif(ctx, rng, 0);
    let contrast = make_motif(ctx, rng, 3);
    let phrase_steps = ctx.phrase_bars * ctx.spb;

    let mut out = Vec::new();
    let mut prev = centre;
    for i in 0..n_phrases {
        let role = if i + 1 == n_phrases {
            Role::Cadence
        } else {
            [Role::Statement, Role::Answer, Role::Contrast, Role::Answer][i as usize % 4]
        };
        let motif = if role == Role::Contrast {
            &contrast
        } else {
            &main
        };
        let start = (ctx.intro_bars + i * ctx.phrase_bars) * ctx.spb;
        let count = motif.notes.len();
        for (j, mn) in motif.notes.iter().enumerate() {
            let abs = start + mn.step;
            let (pool, tones) = ctx.melody_pool(ctx.chord_at(abs), lo, hi);
            let last = j + 1 == count;
            let mut mv = mn.mv;
            if role == Role::Answer && j > 0 && j + 2 >= count {
                mv = rng.jitter(2);
            }
            let mut key = if j == 0 {
                step_in_pool(&pool, centre, motif.start_offset)
            } else {
                step_in_pool(&pool, prev, mv)
            };
            if mn.strong || mn.dur >= 4 || last {
                key = snap(&tones, key, mv);
            }
            if last {
                key = match role {
                    Role::Cadence => snap(&tones, nearest_tonic(tonic, key), 0),
                    Role::Answer => {
                        let non_root: Vec<u8> =
                            tones.iter().copied().filter(|t| t % 12 != tonic).collect();
                        if non_root.is_empty() {
                            key
                        } else {
                            snap(&non_root, key, mv)
                        }
                    }
                    Role::Statement | Role::Contrast => key,
                };
            }
            let base = if mn.strong { 96 } else { 86 };
            out.push(Note {
                start: f64::from(abs),
                dur: f64::from(mn.dur),
                key,
                vel: vel(base, rng, 6),
            });
            prev = key;
        }
        debug_assert!(motif.notes.iter().all(|n| n.step + n.dur <= phrase_steps));
    }
    out.push(Note {
        start: f64::from((ctx.bars - 1) * ctx.spb),
        dur: f64::from(ctx.spb),
        key: nearest_tonic(tonic, prev).clamp(lo, hi),
        vel: 90,
    });
    out
}

/// The tonic nearest to `key`.
fn nearest_tonic(tonic: u8, key: u8) -> u8 {
    let below = key - (key + 12 - tonic) % 12;
    if key - below <= 6 { below } else { below + 12 }
}

/// Sorts a part and makes it playable: notes end by `end`, and a note is cut
/// where the same key sounds again, because a MIDI note-off silences every
/// voice on that key.
fn tidy(notes: &mut [Note], end: f64) {
    notes.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.key.cmp(&b.key)));
    let mut last: [Option<usize>; 128] = [None; 128];
    for i in 0..notes.len() {
        let key = usize::from(notes[i].key.min(127));
        if let Some(j) = last[key]
            && notes[j].end() > notes[i].start
        {
            notes[j].dur = (notes[i].start - notes[j].start).max(0.05);
        }
        if notes[i].end() > end {
            notes[i].dur = (end - notes[i].start).max(0.05);
        }
        last[key] = Some(i);
    }
}

/// Joins back-to-back notes of the same key into one, so pads sustain across
/// bars instead of restarting their attack.
fn tie_repeats(notes: &mut Vec<Note>) {
    let mut out: Vec<Note> = Vec::with_capacity(notes.len());
    let mut last: [Option<usize>; 128] = [None; 128];
    for note in notes.drain(..) {
        let key = usize::from(note.key.min(127));
        if let Some(j) = last[key]
            && (out[j].end() - note.start).abs() < 1e-6
        {
            out[j].dur += note.dur;
            continue;
        }
        last[key] = Some(out.len());
        out.push(note);
    }
    *notes = out;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::demo_songs;

    #[test]
    fn composition_is_deterministic() {
        for spec in demo_songs() {
            let p = spec.style.profile();
            let a = compose(&spec, &p, spec.bars);
            let b = compose(&spec, &p, spec.bars);
            assert_eq!(a.lead, b.lead);
            assert_eq!(a.drums, b.drums);
        }
    }

    #[test]
    fn parts_are_populated_and_in_range() {
        for spec in demo_songs() {
            let p = spec.style.profile();
            let s = compose(&spec, &p, spec.bars);
            let end = f64::from(s.total_steps);
            for (name, part) in [
                ("drums", &s.drums),
                ("bass", &s.bass),
                ("keys", &s.keys),
                ("lead", &s.lead),
            ] {
                assert!(part.len() >= 4, "{}: {name} is nearly empty", spec.title);
                for n in part {
                    assert!(
                        n.start >= 0.0 && n.end() <= end + 1e-9,
                        "{}: {name}",
                        spec.title
                    );
                    assert!(n.key <= 127 && n.vel >= 1 && n.vel <= 127);
                }
            }
            // The melody must have several phrases, not just the final note.
            assert!(s.lead.len() >= 10, "{}: lead too sparse", spec.title);
        }
    }

    #[test]
    fn melody_stays_in_the_scale_and_ends_on_the_tonic() {
        for spec in demo_songs() {
            let p = spec.style.profile();
            let s = compose(&spec, &p, spec.bars);
            let scale: Vec<u8> = spec
                .mode
                .intervals()
                .iter()
                .map(|i| (spec.tonic + i) % 12)
                .collect();
            for n in &s.lead {
                assert!(scale.contains(&(n.key % 12)), "{}: {n:?}", spec.title);
            }
            let last = s.lead.last().map(|n| n.key % 12);
            assert_eq!(last, Some(spec.tonic), "{}", spec.title);
        }
    }

    #[test]
    fn strong_beats_lean_on_chord_tones() {
        for spec in demo_songs() {
            let p = spec.style.profile();
            let s = compose(&spec, &p, spec.bars);
            let spb = p.steps_per_bar;
            let mut on_beat = 0;
            let mut tones = 0;
            for n in &s.lead {
                let step = n.start as u32;
                if step % 4 != 0 {
                    continue;
                }
                on_beat += 1;
                let bar = step / spb;
                let chord = if bar + 1 >= spec.bars {
                    continue;
                } else {
                    spec.progression[(bar / spec.bars_per_chord) as usize % spec.progression.len()]
                };
                if chord.pitch_classes(spec.tonic).contains(&(n.key % 12)) {
                    tones += 1;
                }
            }
            assert!(on_beat > 0);
            assert!(
                tones * 10 >= on_beat * 9,
                "{}: {tones}/{on_beat}",
                spec.title
            );
        }
    }

    #[test]
    fn same_key_notes_never_overlap() {
        for spec in demo_songs() {
            let p = spec.style.profile();
            let s = compose(&spec, &p, spec.bars);
            for part in [&s.drums, &s.bass, &s.keys, &s.lead] {
                for (i, a) in part.iter().enumerate() {
                    for b in &part[i + 1..] {
                        if a.key == b.key && b.start > a.start {
                            assert!(a.end() <= b.start + 1e-9, "{}: {a:?} {b:?}", spec.title);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn nearest_tonic_picks_the_closer_octave() {
        assert_eq!(nearest_tonic(0, 70), 72);
        assert_eq!(nearest_tonic(0, 65), 60);
        assert_eq!(nearest_tonic(9, 69), 69);
    }
}
