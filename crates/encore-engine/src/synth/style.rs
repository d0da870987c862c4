//! Genre templates: the grooves, bass figures and comping patterns each style plays.
//!
//! Patterns are written on a sixteenth-note grid, one character per step, so
//! they read like a drum machine's display:
//!
//! * drums: `X` accent, `x` normal, `o` soft, `g` ghost, `.` rest;
//! * bass: `R` root, `F` fifth, `L` fifth below, `O` octave, `T` third,
//!   `S` seventh, `A` chromatic approach to the next chord, `-` holds, `.` rest;
//! * keys: `x` the whole chord, a digit one note of the voicing (counting
//!   upwards, wrapping into the next octave), `-` holds, `.` rest.
//!
//! A pattern may span several bars; it is read cyclically from the song start.

/// The genre a song is arranged in.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Style {
    /// Slow piano ballad with arpeggios.
    PopBallad,
    /// Four-on-the-floor house with offbeat bass and chord stabs.
    House,
    /// Syncopated sixteenth-note funk with clavinet.
    Funk,
    /// Laid-back, swung hip hop with electric piano.
    LoFiHipHop,
    /// Driving eighth-note rock with power chords.
    Rock,
    /// Brazilian bossa nova with nylon guitar and brushes.
    BossaNova,
    /// 1980s-flavoured synth pop with pads and pulsing bass.
    Synthwave,
    /// Folk waltz in 3/4 with accordion oom-pah-pah.
    FolkWaltz,
    /// One-drop reggae with offbeat skank.
    Reggae,
    /// Fast breakbeat drum and bass with long pads.
    DrumAndBass,
    /// Disco with octave bass and offbeat strings.
    Disco,
    /// Country shuffle with boom-chick guitar.
    Country,
    /// Swing jazz with ride cymbal and walking bass.
    Jazz,
    /// Half-time trap with 808s and rolling hats.
    Trap,
    /// West African highlife/afrobeat with interlocking guitar.
    Afrobeat,
    /// Slow orchestral score with strings and horn.
    Cinematic,
}

impl Style {
    /// Human-readable genre name for catalogue listings.
    pub fn name(self) -> &'static str {
        match self {
            Style::PopBallad => "pop ballad",
            Style::House => "house",
            Style::Funk => "funk",
            Style::LoFiHipHop => "lo-fi hip hop",
            Style::Rock => "rock",
            Style::BossaNova => "bossa nova",
            Style::Synthwave => "synthwave",
            Style::FolkWaltz => "folk waltz",
            Style::Reggae => "reggae",
            Style::DrumAndBass => "drum and bass",
            Style::Disco => "disco",
            Style::Country => "country",
            Style::Jazz => "jazz",
            Style::Trap => "trap",
            Style::Afrobeat => "afrobeat",
            Style::Cinematic => "cinematic",
        }
    }
}

/// How the drummer marks the end of a four-bar section.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fill {
    /// No fill; the groove simply continues.
    None,
    /// Four sixteenths down the toms.
    Toms,
    /// A crescendo of snare sixteenths.
    SnareRoll,
    /// Thirty-second-note hi-hat roll, as in trap.
    HatRoll,
}

/// Which notes are pushed late to create a swing feel.
#[derive(Copy, Clone, Debug, PartialEq)]
pub(crate) enum Swing {
    /// Straight timing.
    Straight,
    /// Off-beat eighths are delayed by this fraction of an eighth (1/3 is a triplet feel).
    Eighths(f64),
    /// Off-beat sixteenths are delayed by this fraction of a sixteenth.
    Sixteenths(f64),
}

/// One drum voice and its pattern.
pub(crate) struct DrumLine {
    /// GM percussion key (36 kick, 38 snare, 42 closed hat...).
    pub key: u8,
    /// Pattern string, see the module documentation.
    pub pattern: &'static str,
}

/// Everything the composer needs to know about a genre.
pub(crate) struct Profile {
    /// Grid steps per bar: 16 for 4/4, 12 for 3/4.
    pub steps_per_bar: u32,
    /// The groove, one line per drum voice.
    pub drums: &'static [DrumLine],
    /// Fill played on the last beat of every fourth bar.
    pub fill: Fill,
    /// Bass figure.
    pub bass: &'static str,
    /// Keys comping or arpeggio pattern.
    pub keys: &'static str,
    /// Whether repeated identical keys notes are tied into one long note (pads, strings).
    pub keys_legato: bool,
    /// Whether chords get sevenths at the final cadence (jazzier styles).
    pub sevenths: bool,
    /// Whether keys play root-fifth-octave power chords in a low register.
    pub power_chords: bool,
    /// Smallest melody step: 2 for eighth notes, 4 for quarter notes.
    pub melody_grid: u32,
    /// How busy the melody is, 0 (sparse) to 1 (busy).
    pub melody_density: f64,
    /// Timing feel shared by every stem.
    pub swing: Swing,
    /// Relative loudness of drums, bass, keys and lead in dB, used by the auto-mix.
    pub mix_db: [f32; 4],
    /// Reverb send (CC 91) for drums, bass, keys and lead.
    pub reverb: [u8; 4],
}

/// Shorthand for a drum line in the tables below.
const fn d(key: u8, pattern: &'static str) -> DrumLine {
    DrumLine { key, pattern }
}

/// The GM percussion keys used below, named for readability.
mod kit {
    pub const KICK: u8 = 36;
    pub const SIDE_STICK: u8 = 37;
    pub const SNARE: u8 = 38;
    pub const CLAP: u8 = 39;
    pub const CLOSED_HAT: u8 = 42;
    pub const PEDAL_HAT: u8 = 44;
    pub const OPEN_HAT: u8 = 46;
    pub const RIDE: u8 = 51;
    pub const TAMBOURINE: u8 = 54;
    pub const COWBELL: u8 = 56;
    pub const MARACAS: u8 = 70;
}

use kit::*;

impl Style {
    /// The arrangement template for this genre.
    pub(crate) fn profile(self) -> Profile {
        let base = Profile {
            steps_per_bar: 16,
            drums: const { &[] },
            fill: Fill::Toms,
            bass: "R-------F-------",
            keys: "x---------------",
            keys_legato: false,
            sevenths: false,
            power_chords: false,
            melody_grid: 2,
            melody_density: 0.45,
            swing: Swing::Straight,
            mix_db: [0.0, -2.0, -4.0, -2.0],
            reverb: [30, 10, 50, 55],
        };
        match self {
            Style::PopBallad => Profile {
                drums: const {
                    &[
                        d(KICK, "X.......x.x....."),
                        d(SNARE, "....o.......o..."),
                        d(CLOSED_HAT, "o.g.o.g.o.g.o.g."),
                    ]
                },
                bass: "R-------R---F---",
                keys: "0-1-2-3-4-3-2-1-",
                melody_density: 0.5,
                mix_db: [-4.0, -3.0, -3.0, 0.0],
                reverb: [40, 15, 60, 65],
                ..base
            },
            Style::House => Profile {
                drums: const {
                    &[
                        d(KICK, "X...X...X...X..."),
                        d(CLAP, "....x.......x..."),
                        d(OPEN_HAT, "..x...x...x...x."),
                        d(CLOSED_HAT, ".g.g...g.g.g...g"),
                    ]
                },
                fill: Fill::SnareRoll,
                bass: "..R-..R-..R-..O-",
                keys: "x-..x-.x..x-.x..",
                melody_density: 0.4,
                mix_db: [0.0, -2.0, -5.0, -4.0],
                ..base
            },
            Style::Funk => Profile {
                drums: const {
                    &[
                        d(KICK, "X..x..x...x..x.."),
                        d(SNARE, "....X..g.g..X..g"),
                        d(CLOSED_HAT, "xgxgxgxgxgxgxgxg"),
                    ]
                },
                bass: "R-.R..O.R-.F.RO.",
                keys: ".x.xx.x..x.xx.x.",
                melody_density: 0.5,
                mix_db: [0.0, -1.0, -5.0, -3.0],
                reverb: [20, 5, 30, 40],
                ..base
            },
            Style::LoFiHipHop => Profile {
                drums: const {
                    &[
                        d(KICK, "X......x..x....."),
                        d(SNARE, "....x.......x..."),
                        d(CLOSED_HAT, "o.g.o.g.o.g.o.gg"),
                    ]
                },
                fill: Fill::None,
                bass: "R-------..R-F---",
                keys: "x---------x-----",
                sevenths: true,
                melody_density: 0.35,
                swing: Swing::Eighths(0.22),
                mix_db: [-1.0, -2.0, -3.0, -3.0],
                reverb: [25, 10, 55, 60],
                ..base
            },
            Style::Rock => Profile {
                drums: const {
                    &[
                        d(KICK, "X.....x.X.x....."),
                        d(SNARE, "....X.......X..."),
                        d(CLOSED_HAT, "x.o.x.o.x.o.x.o."),
                    ]
                },
                bass: "R-R-R-R-R-R-R-R-",
                keys: "x-x-x-x-x-x-x-x-",
                power_chords: true,
                mix_db: [0.0, -2.0, -4.0, -2.0],
                reverb: [25, 5, 25, 40],
                ..base
            },
            Style::BossaNova => Profile {
                drums: const {
                    &[
                        d(KICK, "o..go..go..go..g"),
                        d(SIDE_STICK, "x..x..x...x..x.."),
                        d(CLOSED_HAT, "g.g.g.g.g.g.g.g."),
                    ]
                },
                fill: Fill::None,
                bass: "R-----F-F-----R-",
                keys: "x-.x-.x-..x-.x-.",
                sevenths: true,
                melody_density: 0.4,
                mix_db: [-6.0, -2.0, -2.0, -1.0],
                reverb: [25, 10, 40, 50],
                ..base
            },
            Style::Synthwave => Profile {
                drums: const {
                    &[
                        d(KICK, "X...X...X...X..."),
                        d(SNARE, "....X.......X..."),
                        d(CLOSED_HAT, "o.o.o.o.o.o.o.o."),
                    ]
                },
                bass: "R-R-O-R-R-R-O-R-",
                keys: "x---------------",
                keys_legato: true,
                melody_density: 0.4,
                mix_db: [0.0, -2.0, -4.0, -2.0],
                reverb: [45, 15, 70, 70],
                ..base
            },
            Style::FolkWaltz => Profile {
                steps_per_bar: 12,
                drums: const { &[d(KICK, "x..........."), d(SNARE, "....g...g...")] },
                fill: Fill::None,
                bass: "R---........F---........",
                keys: "....x-..x-..",
                melody_density: 0.5,
                mix_db: [-7.0, -2.0, -3.0, 0.0],
                reverb: [30, 15, 45, 55],
                ..base
            },
            Style::Reggae => Profile {
                drums: const {
                    &[
                        d(KICK, "........X......."),
                        d(SIDE_STICK, "........x......."),
                        d(CLOSED_HAT, "x.o.x.o.x.o.x.o."),
                    ]
                },
                fill: Fill::SnareRoll,
                bass: "R---..R-F-..O-R.",
                keys: "....x-......x-..",
                melody_density: 0.4,
                swing: Swing::Sixteenths(0.3),
                mix_db: [-1.0, 0.0, -5.0, -3.0],
                reverb: [30, 5, 35, 50],
                ..base
            },
            Style::DrumAndBass => Profile {
                drums: const {
                    &[
                        d(KICK, "X.........x....."),
                        d(SNARE, "..g.X..g.g..X..g"),
                        d(CLOSED_HAT, "o.o.o.o.o.o.o.o."),
                        d(RIDE, "g...g...g...g..."),
                    ]
                },
                fill: Fill::SnareRoll,
                bass: "R---------R-----",
                keys: "x---------------",
                keys_legato: true,
                melody_grid: 4,
                melody_density: 0.5,
                mix_db: [0.0, -1.0, -6.0, -4.0],
                reverb: [25, 5, 70, 60],
                ..base
            },
            Style::Disco => Profile {
                drums: const {
                    &[
                        d(KICK, "X...X...X...X..."),
                        d(SNARE, "....x.......x..."),
                        d(OPEN_HAT, "..x...x...x...x."),
                        d(TAMBOURINE, "g.g.g.g.g.g.g.g."),
                    ]
                },
                fill: Fill::SnareRoll,
                bass: "R-O-R-O-R-O-R-O-",
                keys: "..x-..x-..x-..x-",
                sevenths: true,
                mix_db: [0.0, -1.0, -5.0, -3.0],
                ..base
            },
            Style::Country => Profile {
                drums: const { &[d(KICK, "X.......x......."), d(SNARE, "g.g.x.g.g.g.x.g.")] },
                bass: "R-------F-------",
                keys: "....x---....x---",
                melody_density: 0.5,
                swing: Swing::Eighths(0.25),
                mix_db: [-4.0, -2.0, -3.0, -1.0],
                reverb: [20, 10, 35, 40],
                ..base
            },
            Style::Jazz => Profile {
                drums: const {
                    &[
                        d(RIDE, "x...x.x.x...x.x."),
                        d(PEDAL_HAT, "....x.......x..."),
                        d(KICK, "g...g...g...g..."),
                        d(SNARE, "......g.......g."),
                    ]
                },
                fill: Fill::None,
                bass: "R---T---F---A---",
                keys: "x-----x-........",
                sevenths: true,
                melody_density: 0.5,
                swing: Swing::Eighths(0.33),
                mix_db: [-5.0, -1.0, -4.0, 0.0],
                reverb: [30, 10, 40, 50],
                ..base
            },
            Style::Trap => Profile {
                drums: const {
                    &[
                        d(KICK, "X......x..x....."),
                        d(SNARE, "........X......."),
                        d(CLAP, "........x......."),
                        d(CLOSED_HAT, "xgxgxgxgxgxgxgxg"),
                    ]
                },
                fill: Fill::HatRoll,
                bass: "R---------R-R---",
                keys: "x---------------",
                keys_legato: true,
                melody_density: 0.35,
                mix_db: [0.0, 0.0, -6.0, -3.0],
                reverb: [20, 5, 50, 60],
                ..base
            },
            Style::Afrobeat => Profile {
                drums: const {
                    &[
                        d(KICK, "X.....x...x....."),
                        d(SNARE, "....x..g....x.g."),
                        d(MARACAS, "gogogogogogogogo"),
                        d(COWBELL, "o..o..o...o.o..."),
                    ]
                },
                bass: "R--R..F-R..O.R-.",
                keys: "0.1.2.1.3.1.2.1.",
                mix_db: [-1.0, -2.0, -4.0, -2.0],
                reverb: [25, 10, 35, 45],
                ..base
            },
            Style::Cinematic => Profile {
                drums: const { &[d(KICK, "o...............")] },
                fill: Fill::None,
                bass: "R---------------",
                keys: "x---------------",
                keys_legato: true,
                melody_grid: 4,
                melody_density: 0.5,
                mix_db: [-9.0, -3.0, -2.0, 0.0],
                reverb: [60, 50, 80, 80],
                ..base
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every style the catalog can use, so the pattern checks cover them all.
    const ALL: [Style; 16] = [
        Style::PopBallad,
        Style::House,
        Style::Funk,
        Style::LoFiHipHop,
        Style::Rock,
        Style::BossaNova,
        Style::Synthwave,
        Style::FolkWaltz,
        Style::Reggae,
        Style::DrumAndBass,
        Style::Disco,
        Style::Country,
        Style::Jazz,
        Style::Trap,
        Style::Afrobeat,
        Style::Cinematic,
    ];

    #[test]
    fn patterns_fill_whole_bars_with_known_symbols() {
        for style in ALL {
            let p = style.profile();
            let bar = p.steps_per_bar as usize;
            let check = |pat: &str, allowed: &str| {
                assert!(
                    !pat.is_empty() && pat.len() % bar == 0,
                    "{style:?}: pattern {pat:?} is not whole bars"
                );
                assert!(
                    pat.chars().all(|c| allowed.contains(c)),
                    "{style:?}: pattern {pat:?} has an unknown symbol"
                );
            };
            for line in p.drums {
                check(line.pattern, "Xxog.");
            }
            check(p.bass, "RFLOTSA-.");
            check(p.keys, "x0123456789-.");
            assert!(!p.bass.starts_with('-') && !p.keys.starts_with('-'));
        }
    }
}
