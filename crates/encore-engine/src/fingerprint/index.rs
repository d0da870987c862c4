//! [`FingerprintIndex`]: a catalog's fingerprints as one inverted index.

use rustc_hash::FxHashMap;

use super::{Fingerprint, MATCH_SCORE_MIN, Span, align};

/// Positions listed under one item value beyond which the value is skipped
/// at query time: a value that common (silence, a held chord) says nothing
/// about which track a clip comes from, and would cost time.
const POSTINGS_PER_VALUE_MAX: usize = 1024;

/// Alignments verified item by item per query.
const CANDIDATES_MAX: usize = 24;

/// Fewest votes (exactly equal items at one alignment) for a candidate.
const VOTES_MIN: u32 = 2;

/// Newer tracks are merged into the main postings once they hold this many
/// positions or a quarter of the main postings, whichever is larger.
const RECENT_MERGE_MIN: usize = 1 << 16;

/// One track found in a query.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexMatch {
    /// The track's id, as given to [`FingerprintIndex::insert`].
    pub id: String,
    /// Where it matches, and how well.
    pub span: Span,
    /// How many query items equalled the track's at this alignment.
    pub votes: u32,
}

#[derive(Clone, Debug)]
struct Track {
    id: String,
    /// Position of its first item in `items`.
    base: u32,
    len: u32,
    live: bool,
}

/// The fingerprints of many tracks, searchable by a clip.
///
/// Every item of every track is listed under its value in a sorted array of
/// `(value, position)` pairs (8 bytes per item, about 8 items per second of
/// audio: 10,000 three-minute tracks take about 115 MB, plus 58 MB for the
/// items themselves).  A query looks up each of its items by binary search,
/// lets every equal item vote for the alignment it implies, and verifies the
/// best-voted alignments with [`align`], so its cost grows with the clip's
/// length and the postings it touches, not with the number of tracks.
///
/// Tracks added later go to a second, smaller sorted array that is merged
/// into the main one as it grows; replacing or removing a track marks it dead
/// and the index is rebuilt without dead tracks once they are a quarter of it.
#[derive(Clone, Debug, Default)]
pub struct FingerprintIndex {
    /// In `base` order.
    tracks: Vec<Track>,
    /// Live tracks by id, as positions in `tracks`.
    by_id: FxHashMap<String, usize>,
    items: Vec<u32>,
    postings: Vec<(u32, u32)>,
    recent: Vec<(u32, u32)>,
    dead_items: usize,
}

impl FingerprintIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many tracks are indexed.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no track is indexed.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// How many fingerprint items the live tracks hold.
    pub fn items(&self) -> usize {
        self.items.len() - self.dead_items
    }

    /// Whether `id` is indexed.
    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// Adds a track, replacing any earlier fingerprint under the same id.  An
    /// empty fingerprint just removes the track.
    pub fn insert(&mut self, id: &str, fingerprint: &Fingerprint) {
        self.extend([(id, fingerprint)]);
    }

    /// Adds many tracks at once (one sort instead of one per track).
    ///
    /// Returns how many were added; a track is skipped only if the index
    /// would pass 2^32 items (about 1,100 years of audio).
    pub fn extend<'a, I, S>(&mut self, tracks: I) -> usize
    where
        I: IntoIterator<Item = (S, &'a Fingerprint)>,
        S: AsRef<str>,
    {
        let mut added = 0;
        for (id, fingerprint) in tracks {
            let id = id.as_ref();
            self.remove(id);
            let items = fingerprint.items();
            let (Ok(base), Ok(len)) = (u32::try_from(self.items.len()), u32::try_from(items.len()))
            else {
                continue;
            };
            if items.is_empty() || base.checked_add(len).is_none() {
                continue;
            }
            self.items.extend_from_slice(items);
            self.recent
                .extend(items.iter().zip(base..).map(|(&value, pos)| (value, pos)));
            self.by_id.insert(id.to_owned(), self.tracks.len());
            self.tracks.push(Track {
                id: id.to_owned(),
                base,
                len,
                live: true,
            });
            added += 1;
        }
        self.recent.sort_unstable();
        if self.dead_items > self.items.len() / 4 {
            self.rebuild();
        } else if self.recent.len() >= RECENT_MERGE_MIN.max(self.postings.len() / 4) {
            self.merge_recent();
        }
        added
    }

    /// Removes a track; returns whether it was there.
    pub fn remove(&mut self, id: &str) -> bool {
        let Some(at) = self.by_id.remove(id) else {
            return false;
        };
        let track = &mut self.tracks[at];
        track.live = false;
        self.dead_items += track.len as usize;
        true
    }

    fn merge_recent(&mut self) {
        let recent = std::mem::take(&mut self.recent);
        let main = std::mem::take(&mut self.postings);
        let mut merged = Vec::with_capacity(main.len() + recent.len());
        let (mut a, mut b) = (main.into_iter().peekable(), recent.into_iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if x <= y => a.next(),
                (Some(_), Some(_)) | (None, Some(_)) => b.next(),
                (Some(_), None) => a.next(),
                (None, None) => break,
            };
            merged.extend(next);
        }
        self.postings = merged;
    }

    /// Rebuilds the index from its live tracks only.
    fn rebuild(&mut self) {
        let old_items = std::mem::take(&mut self.items);
        let old_tracks = std::mem::take(&mut self.tracks);
        self.by_id.clear();
        self.postings.clear();
        self.recent.clear();
        self.dead_items = 0;
        for track in old_tracks.into_iter().filter(|t| t.live) {
            let from = track.base as usize;
            let slice = &old_items[from..from + track.len as usize];
            let base = self.items.len() as u32;
            self.items.extend_from_slice(slice);
            self.postings
                .extend(slice.iter().zip(base..).map(|(&value, pos)| (value, pos)));
            self.by_id.insert(track.id.clone(), self.tracks.len());
            self.tracks.push(Track { base, ..track });
        }
        self.postings.sort_unstable();
    }

    /// The track holding global item position `pos`.
    fn track_at(&self, pos: u32) -> usize {
        self.tracks.partition_point(|t| t.base <= pos) - 1
    }

    fn track_items(&self, track: &Track) -> &[u32] {
        let from = track.base as usize;
        &self.items[from..from + track.len as usize]
    }

    /// The tracks `query` matches, best score first, at most `limit` of them,
    /// each with where it matches; only matches scoring at least
    /// [`MATCH_SCORE_MIN`] are returned.
    pub fn identify(&self, query: &Fingerprint, limit: usize) -> Vec<IndexMatch> {
        let query = query.items();
        if query.is_empty() || self.tracks.is_empty() || limit == 0 {
            return Vec::new();
        }
        // Votes per (track, offset), packed in one key.
        let mut votes: FxHashMap<(u32, i32), u32> = FxHashMap::default();
        for (i, &value) in query.iter().enumerate() {
            let main = range(&self.postings, value);
            let recent = range(&self.recent, value);
            if main.len() + recent.len() > POSTINGS_PER_VALUE_MAX {
                continue;
            }
            for &(_, pos) in main.iter().chain(recent) {
                let at = self.track_at(pos);
                let track = &self.tracks[at];
                if !track.live {
                    continue;
                }
                let offset = i64::from(pos - track.base) - i as i64;
                let Ok(offset) = i32::try_from(offset) else {
                    continue;
                };
                *votes.entry((at as u32, offset)).or_default() += 1;
            }
        }
        let mut candidates: Vec<((u32, i32), u32)> =
            votes.into_iter().filter(|&(_, v)| v >= VOTES_MIN).collect();
        candidates.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        candidates.truncate(CANDIDATES_MAX);

        let mut best: FxHashMap<u32, IndexMatch> = FxHashMap::default();
        for ((at, offset), count) in candidates {
            let track = &self.tracks[at as usize];
            let items = self.track_items(track);
            let span = (-1..=1)
                .filter_map(|d| align(query, items, i64::from(offset) + d))
                .max_by(|a, b| a.score.total_cmp(&b.score));
            let Some(span) = span else { continue };
            if span.score < MATCH_SCORE_MIN {
                continue;
            }
            let better = best.get(&at).is_none_or(|m| {
                (span.score, span.duration_seconds) > (m.span.score, m.span.duration_seconds)
            });
            if better {
                best.insert(
                    at,
                    IndexMatch {
                        id: track.id.clone(),
                        span,
                        votes: count,
                    },
                );
            }
        }
        let mut found: Vec<IndexMatch> = best.into_values().collect();
        found.sort_by(|a, b| {
            b.span
                .score
                .total_cmp(&a.span.score)
                .then(b.span.duration_seconds.total_cmp(&a.span.duration_seconds))
                .then(a.id.cmp(&b.id))
        });
        found.truncate(limit);
        found
    }
}

/// The pairs in sorted `postings` whose value is `value`.
fn range(postings: &[(u32, u32)], value: u32) -> &[(u32, u32)] {
    let lo = postings.partition_point(|&(v, _)| v < value);
    let hi = lo + postings[lo..].partition_point(|&(v, _)| v == value);
    &postings[lo..hi]
}
