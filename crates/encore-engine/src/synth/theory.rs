//! Scales, chords and the seeded random source the composer draws from.

/// The scale a song's melody stays inside.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Ionian: bright, the default for pop and folk.
    Major,
    /// Aeolian (natural minor): dark, for synthwave, rock and film.
    Minor,
    /// Minor with a raised sixth: the funk and jazz-vamp minor.
    Dorian,
    /// Major with a flat seventh: rock and country's bluesy major.
    Mixolydian,
}

impl Mode {
    /// Semitone offsets of the seven scale degrees above the tonic.
    pub fn intervals(self) -> [u8; 7] {
        match self {
            Mode::Major => [0, 2, 4, 5, 7, 9, 11],
            Mode::Minor => [0, 2, 3, 5, 7, 8, 10],
            Mode::Dorian => [0, 2, 3, 5, 7, 9, 10],
            Mode::Mixolydian => [0, 2, 4, 5, 7, 9, 10],
        }
    }

    /// Whether the tonic chord has a major third, which decides the final chord.
    pub fn is_major(self) -> bool {
        matches!(self, Mode::Major | Mode::Mixolydian)
    }

    /// The name used in key labels such as "E Dorian".
    pub fn name(self) -> &'static str {
        match self {
            Mode::Major => "major",
            Mode::Minor => "minor",
            Mode::Dorian => "Dorian",
            Mode::Mixolydian => "Mixolydian",
        }
    }
}

/// The kind of chord built on a root.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Quality {
    /// Root, major third, fifth.
    Major,
    /// Root, minor third, fifth.
    Minor,
    /// Major triad with a minor seventh: the dominant.
    Dom7,
    /// Major triad with a major seventh.
    Maj7,
    /// Minor triad with a minor seventh.
    Min7,
    /// Root, fourth, fifth: open and unresolved.
    Sus4,
    /// Root and fifth only, voiced as a guitar power chord.
    Power,
}

impl Quality {
    /// Semitone offsets of the chord tones above the root, lowest first.
    pub fn intervals(self) -> &'static [u8] {
        match self {
            Quality::Major => &[0, 4, 7],
            Quality::Minor => &[0, 3, 7],
            Quality::Dom7 => &[0, 4, 7, 10],
            Quality::Maj7 => &[0, 4, 7, 11],
            Quality::Min7 => &[0, 3, 7, 10],
            Quality::Sus4 => &[0, 5, 7],
            Quality::Power => &[0, 7],
        }
    }

    /// The third above the root, or the fifth's neighbour for chords without one,
    /// so walking bass lines always have a middle note to visit.
    pub fn third(self) -> u8 {
        match self {
            Quality::Major | Quality::Dom7 | Quality::Maj7 => 4,
            Quality::Minor | Quality::Min7 => 3,
            Quality::Sus4 => 5,
            Quality::Power => 7,
        }
    }
}

/// A chord in a progression, relative to the song's tonic.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Chord {
    /// Semitones from the tonic to the chord root (0..=11).
    pub root: u8,
    /// Which chord is built on that root.
    pub quality: Quality,
}

/// Builds a chord; a `const fn` so the catalog's progressions can be constants.
pub const fn chord(root: u8, quality: Quality) -> Chord {
    Chord { root, quality }
}

impl Chord {
    /// Absolute pitch classes (0 = C) of the chord tones in a song on `tonic`.
    pub fn pitch_classes(self, tonic: u8) -> Vec<u8> {
        self.quality
            .intervals()
            .iter()
            .map(|i| (tonic + self.root + i) % 12)
            .collect()
    }
}

/// Small deterministic generator (SplitMix64), so every render of a song is
/// bit-identical without depending on a randomness crate.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    /// Seeds the generator; different labels give independent streams per stem.
    pub(crate) fn new(seed: u64, label: &str) -> Self {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in label.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Rng(seed ^ h)
    }

    /// Next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform float in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform integer in `0..n`, or 0 when `n` is 0.
    pub(crate) fn below(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        (self.next_u64() % u64::from(n)) as u32
    }

    /// Uniform integer in `-spread..=spread`.
    pub(crate) fn jitter(&mut self, spread: i32) -> i32 {
        let width = u32::try_from(2 * spread.max(0) + 1).unwrap_or(1);
        self.below(width) as i32 - spread.max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic_and_label_dependent() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(7, "lead").next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            Rng::new(7, "lead").next_u64(),
            Rng::new(7, "bass").next_u64()
        );
        let mut r = Rng::new(1, "x");
        for _ in 0..1000 {
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
            assert!((-3..=3).contains(&r.jitter(3)));
        }
    }

    #[test]
    fn chord_pitch_classes_wrap() {
        // A dominant seventh on the fifth of G major is D F# A C.
        assert_eq!(chord(7, Quality::Dom7).pitch_classes(7), vec![2, 6, 9, 0]);
    }
}
