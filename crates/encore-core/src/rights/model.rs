//! Generative models: what they can do and what they were trained on.

use std::borrow::Borrow;
use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, Hash};

use super::{ModelId, RecordingId, WorkId};
use crate::UseType;

/// What a model declares it was trained on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TrainingSet {
    /// No catalog item: the model is always cleared.
    NoCatalogItems,
    /// These catalog items, each of which must stay cleared for `train`.
    Items {
        /// Recordings in the training set.
        recordings: Vec<RecordingId>,
        /// Works in the training set.
        works: Vec<WorkId>,
    },
}

/// A registered generative model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Model {
    /// Identifier.
    pub id: ModelId,
    /// The uses it can perform.
    pub uses: BTreeSet<UseType>,
    /// Its declared training set.
    pub training: TrainingSet,
}

/// Read access to registered models.
pub trait ModelView {
    /// A model, or `None` if there is no such model.
    fn model(&self, id: &str) -> Option<&Model>;
}

impl<K, S> ModelView for HashMap<K, Model, S>
where
    K: Borrow<str> + Hash + Eq,
    S: BuildHasher,
{
    fn model(&self, id: &str) -> Option<&Model> {
        self.get(id)
    }
}

/// No models registered, for callers whose requests name none.
impl ModelView for () {
    fn model(&self, _id: &str) -> Option<&Model> {
        None
    }
}
