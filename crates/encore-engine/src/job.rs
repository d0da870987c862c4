//! Progress reporting and cancellation, shared by transcription and the generators.

/// Progress reporting and cancellation for long-running engine work.
///
/// The engine calls [`Job::progress`] with the fraction done (0.0 to 1.0) and
/// asks [`Job::cancelled`] between units of work (for transcription, between
/// two-second windows; for remix, between one-second chunks), stopping with a
/// cancellation error when it says yes.
pub trait Job {
    /// Reports that `done` (0.0 to 1.0) of the work is finished.
    fn progress(&self, done: f32);
    /// Whether the caller wants the work abandoned.
    fn cancelled(&self) -> bool;
}

/// A [`Job`] that ignores progress and is never cancelled.
#[derive(Copy, Clone, Debug, Default)]
pub struct Unattended;

impl Job for Unattended {
    fn progress(&self, _done: f32) {}
    fn cancelled(&self) -> bool {
        false
    }
}

/// One stage of a larger job: its progress (0.0 to 1.0) is mapped onto
/// `start..start + span` of the parent's, and cancellation is the parent's.
#[derive(Copy, Clone)]
pub struct Stage<'a> {
    parent: &'a dyn Job,
    start: f32,
    span: f32,
}

impl<'a> Stage<'a> {
    /// The part of `parent` from `start` to `end` (both 0.0 to 1.0).
    pub fn new(parent: &'a dyn Job, start: f32, end: f32) -> Self {
        debug_assert!((0.0..=1.0).contains(&start) && start <= end && end <= 1.0);
        Self {
            parent,
            start,
            span: end - start,
        }
    }
}

impl Job for Stage<'_> {
    fn progress(&self, done: f32) {
        self.parent
            .progress(self.start + self.span * done.clamp(0.0, 1.0));
    }
    fn cancelled(&self) -> bool {
        self.parent.cancelled()
    }
}
