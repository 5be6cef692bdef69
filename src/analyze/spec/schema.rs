//! Body shape inference: a compact, mergeable [`Schema`] of the JSON bodies seen in traffic.
//!
//! [`Schema::infer`] describes one JSON value; [`Schema::merge`] folds another in (union of
//! property names and of types; array item schemas merge; `required` is the intersection of
//! the property sets of every object sample). The shape is bounded: objects keep at most
//! [`SchemaLimits::max_properties`] properties and nesting stops at
//! [`SchemaLimits::max_depth`]; what was cut sets `truncated` on the node where it was cut.
//! Nothing here panics or recurses deeper than the value it is given (serde_json itself
//! refuses documents nested over 128 levels), and the type is serde (de)serializable for a
//! persisted state file.
//!
//! [`Schema::field_paths`] lists fields in the notation of
//! [`Operation::request_fields`](super::Operation::request_fields) (`$.user.email`,
//! `$.items[].id`), and [`Schema::to_openapi`] writes an OpenAPI 3.0 schema object.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Bounds of an inferred schema.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SchemaLimits {
    /// Nesting levels kept (the root object's properties are level 1). Default 8.
    pub max_depth: usize,
    /// Properties kept per object; more set `truncated`. Default 200.
    pub max_properties: usize,
    /// Array elements looked at (the first ones; a list's items share a shape). Default 8.
    pub max_array_items: usize,
}

impl Default for SchemaLimits {
    fn default() -> Self {
        SchemaLimits {
            max_depth: 8,
            max_properties: 200,
            max_array_items: 8,
        }
    }
}

/// A JSON type; `integer` is a number without a fraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JsonType {
    Null,
    Boolean,
    Integer,
    Number,
    String,
    Array,
    Object,
}

impl JsonType {
    pub fn of(v: &Value) -> JsonType {
        match v {
            Value::Null => JsonType::Null,
            Value::Bool(_) => JsonType::Boolean,
            Value::Number(n) if n.is_i64() || n.is_u64() => JsonType::Integer,
            Value::Number(_) => JsonType::Number,
            Value::String(_) => JsonType::String,
            Value::Array(_) => JsonType::Array,
            Value::Object(_) => JsonType::Object,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            JsonType::Null => "null",
            JsonType::Boolean => "boolean",
            JsonType::Integer => "integer",
            JsonType::Number => "number",
            JsonType::String => "string",
            JsonType::Array => "array",
            JsonType::Object => "object",
        }
    }

    /// Every type, in order.
    const ALL: [JsonType; 7] = [
        JsonType::Null,
        JsonType::Boolean,
        JsonType::Integer,
        JsonType::Number,
        JsonType::String,
        JsonType::Array,
        JsonType::Object,
    ];

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of [`JsonType`]s, one bit each: every value of every body read for its shape has
/// one, and a `BTreeSet` allocated a node for it. Iterated and (de)serialised as the
/// sorted list of type names, as the `BTreeSet` it replaces was, so state files read and
/// write the same.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct TypeSet(u8);

impl TypeSet {
    /// Adds `t`; false when it was there.
    pub fn insert(&mut self, t: JsonType) -> bool {
        let had = self.contains(&t);
        self.0 |= t.bit();
        !had
    }

    pub fn contains(&self, t: &JsonType) -> bool {
        self.0 & t.bit() != 0
    }

    /// Adds every type of `other`.
    pub fn extend(&mut self, other: TypeSet) {
        self.0 |= other.0;
    }

    /// The types, in [`JsonType`] order.
    pub fn iter(&self) -> impl Iterator<Item = JsonType> + '_ {
        JsonType::ALL.into_iter().filter(|t| self.contains(t))
    }

    pub fn len(&self) -> usize {
        self.0.count_ones() as usize
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }
}

impl std::fmt::Debug for TypeSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl FromIterator<JsonType> for TypeSet {
    fn from_iter<I: IntoIterator<Item = JsonType>>(it: I) -> Self {
        let mut s = TypeSet::default();
        for t in it {
            s.insert(t);
        }
        s
    }
}

impl<const N: usize> From<[JsonType; N]> for TypeSet {
    fn from(a: [JsonType; N]) -> Self {
        a.into_iter().collect()
    }
}

impl Serialize for TypeSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for TypeSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<JsonType>::deserialize(d)?.into_iter().collect())
    }
}

/// The merged shape of the JSON values seen at one place in a body.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Schema {
    /// Every type seen here.
    pub types: TypeSet,
    /// Properties of the object samples, by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, Schema>,
    /// Properties present in every object sample.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub required: BTreeSet<String>,
    /// Merged schema of every array element seen here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Box<Schema>>,
    /// Values seen here.
    pub samples: u64,
    /// Of which objects (the base of `required`).
    pub object_samples: u64,
    /// Properties or nesting were cut here by a [`SchemaLimits`] bound.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

impl Schema {
    /// The shape of one value, with the default limits.
    pub fn infer(v: &Value) -> Schema {
        Self::infer_with(v, &SchemaLimits::default())
    }

    /// The shape of one value.
    pub fn infer_with(v: &Value, limits: &SchemaLimits) -> Schema {
        Self::infer_at(v, limits, 0)
    }

    fn infer_at(v: &Value, limits: &SchemaLimits, depth: usize) -> Schema {
        let mut s = Schema {
            samples: 1,
            ..Schema::default()
        };
        s.types.insert(JsonType::of(v));
        match v {
            Value::Object(m) => {
                s.object_samples = 1;
                if depth >= limits.max_depth {
                    s.truncated = !m.is_empty();
                    return s;
                }
                for (k, child) in m {
                    if s.properties.len() >= limits.max_properties {
                        s.truncated = true;
                        break;
                    }
                    s.properties
                        .insert(k.clone(), Self::infer_at(child, limits, depth + 1));
                    s.required.insert(k.clone());
                }
            }
            Value::Array(a) => {
                if depth >= limits.max_depth {
                    s.truncated = !a.is_empty();
                    return s;
                }
                let mut items: Option<Schema> = None;
                for el in a.iter().take(limits.max_array_items.max(1)) {
                    let e = Self::infer_at(el, limits, depth + 1);
                    match items.as_mut() {
                        Some(i) => i.merge_at(e, limits, depth + 1),
                        None => items = Some(e),
                    }
                }
                s.items = items.map(Box::new);
            }
            _ => {}
        }
        s
    }

    /// The shape of a JSON document read straight from bytes, without building a
    /// `serde_json::Value` (array elements past `max_array_items` and values past the
    /// limits are skipped, not allocated). `None` when the bytes are not one JSON value.
    pub fn from_json_slice(bytes: &[u8], limits: &SchemaLimits) -> Option<Schema> {
        let again = Cell::new(false);
        match Self::read_shape(bytes, limits, Some(&again)) {
            None if again.get() => Self::read_shape(bytes, limits, None),
            read => read,
        }
    }

    /// [`Schema::from_json_slice`]; `fold` (when given) lets array items after the first be
    /// folded in as they are read ([`FoldSeed`]), and is set when the document must be read
    /// again without.
    fn read_shape(
        bytes: &[u8],
        limits: &SchemaLimits,
        fold: Option<&Cell<bool>>,
    ) -> Option<Schema> {
        use serde::de::DeserializeSeed;
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let s = ShapeSeed {
            limits,
            depth: 0,
            fold,
        }
        .deserialize(&mut de)
        .ok()?;
        de.end().ok()?;
        Some(s)
    }

    /// A fingerprint of the shape of a JSON document (the set of field paths and their
    /// types, in any order), read without allocating: equal shapes give equal fingerprints,
    /// so a caller can build and merge a [`Schema`] only for shapes it has not seen.
    /// `None` when the bytes are not one JSON value.
    pub fn fingerprint(bytes: &[u8], limits: &SchemaLimits) -> Option<u64> {
        match super::fingerprint::scan(bytes, limits) {
            super::fingerprint::Scan::Print(p) => Some(p),
            super::fingerprint::Scan::Invalid => None,
            super::fingerprint::Scan::Fallback => Self::fingerprint_serde(bytes, limits),
        }
    }

    #[cfg(test)]
    pub(super) fn fingerprint_serde_for_tests(bytes: &[u8], limits: &SchemaLimits) -> Option<u64> {
        Self::fingerprint_serde(bytes, limits)
    }

    /// [`Schema::fingerprint`] read with serde (the reference the fast scanner matches).
    fn fingerprint_serde(bytes: &[u8], limits: &SchemaLimits) -> Option<u64> {
        use serde::de::DeserializeSeed;
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let fp = PrintSeed {
            limits,
            depth: 0,
            path: super::fingerprint::ROOT_PATH,
        }
        .deserialize(&mut de)
        .ok()?;
        de.end().ok()?;
        Some(fp)
    }

    /// Folds another shape in, with the default limits.
    pub fn merge(&mut self, other: &Schema) {
        self.merge_owned(other.clone());
    }

    /// [`Schema::merge`] of a shape the caller no longer needs: its names and sub-shapes
    /// are moved in, not copied.
    pub fn merge_owned(&mut self, other: Schema) {
        self.merge_at(other, &SchemaLimits::default(), 0);
    }

    /// Folds another shape in.
    pub fn merge_with(&mut self, other: &Schema, limits: &SchemaLimits) {
        self.merge_at(other.clone(), limits, 0);
    }

    /// Folds `other`, a shape at nesting `depth`, into this one (array items are merged
    /// this way while a body is read).
    fn merge_at(&mut self, other: Schema, limits: &SchemaLimits, depth: usize) {
        let Schema {
            types,
            properties,
            required,
            items,
            samples,
            object_samples,
            truncated,
        } = other;
        self.types.extend(types);
        self.samples = self.samples.saturating_add(samples);
        self.truncated |= truncated;
        if object_samples > 0 {
            if self.object_samples == 0 {
                self.required = required;
            } else {
                self.required.retain(|k| required.contains(k));
            }
            self.object_samples = self.object_samples.saturating_add(object_samples);
        }
        if depth >= limits.max_depth {
            if !properties.is_empty() || items.is_some() {
                self.truncated = true;
            }
            return;
        }
        for (k, theirs) in properties {
            if let Some(mine) = self.properties.get_mut(&k) {
                mine.merge_at(theirs, limits, depth + 1);
            } else if self.properties.len() < limits.max_properties {
                let mut copy = Schema::default();
                copy.merge_at(theirs, limits, depth + 1);
                self.properties.insert(k, copy);
            } else {
                self.truncated = true;
                self.required.remove(&k);
            }
        }
        if let Some(theirs) = items {
            match self.items.as_mut() {
                Some(mine) => mine.merge_at(*theirs, limits, depth + 1),
                None => {
                    let mut copy = Schema::default();
                    copy.merge_at(*theirs, limits, depth + 1);
                    self.items = Some(Box::new(copy));
                }
            }
        }
    }

    /// Field paths, intermediate objects included: `$.user`, `$.user.email`, `$.items`,
    /// `$.items[].id`. The root `$` itself is not listed.
    pub fn field_paths(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_paths("$", &mut out);
        out
    }

    fn collect_paths(&self, path: &str, out: &mut Vec<String>) {
        for (k, child) in &self.properties {
            let p = format!("{path}.{k}");
            out.push(p.clone());
            child.collect_paths(&p, out);
        }
        if let Some(items) = &self.items {
            items.collect_paths(&format!("{path}[]"), out);
        }
    }

    /// An OpenAPI 3.0 schema object. `null` becomes `nullable: true`; `integer` together
    /// with `number` becomes `number`; several remaining types become a `oneOf`. A shape
    /// with no type seen is `{}` (anything).
    pub fn to_openapi(&self) -> Value {
        let nullable = self.types.contains(&JsonType::Null);
        let mut types: Vec<JsonType> = self.types.iter().filter(|t| *t != JsonType::Null).collect();
        if types.contains(&JsonType::Number) {
            types.retain(|t| *t != JsonType::Integer);
        }
        let mut out = match types.as_slice() {
            [] => Map::new(),
            [t] => self.typed(*t),
            many => {
                let branches: Vec<Value> =
                    many.iter().map(|t| Value::Object(self.typed(*t))).collect();
                let mut m = Map::new();
                m.insert("oneOf".into(), Value::Array(branches));
                m
            }
        };
        if nullable {
            out.insert("nullable".into(), Value::Bool(true));
        }
        Value::Object(out)
    }

    fn typed(&self, t: JsonType) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("type".into(), Value::from(t.name()));
        match t {
            JsonType::Object => {
                if !self.properties.is_empty() {
                    let props: Map<String, Value> = self
                        .properties
                        .iter()
                        .map(|(k, v)| (k.clone(), v.to_openapi()))
                        .collect();
                    m.insert("properties".into(), Value::Object(props));
                }
                let required: Vec<Value> = self
                    .required
                    .iter()
                    .filter(|r| self.properties.contains_key(*r))
                    .map(|r| Value::from(r.as_str()))
                    .collect();
                if !required.is_empty() {
                    m.insert("required".into(), Value::Array(required));
                }
            }
            JsonType::Array => {
                let items = self
                    .items
                    .as_ref()
                    .map_or_else(|| json!({}), |i| i.to_openapi());
                m.insert("items".into(), items);
            }
            _ => {}
        }
        m
    }
}

/// Builds a [`Schema`] while deserialising (see [`Schema::from_json_slice`]).
struct ShapeSeed<'a> {
    limits: &'a SchemaLimits,
    depth: usize,
    /// Array items after the first are folded in as they are read (see [`FoldSeed`]).
    fold: Option<&'a Cell<bool>>,
}

impl ShapeSeed<'_> {
    fn leaf(t: JsonType) -> Schema {
        let mut s = Schema {
            samples: 1,
            ..Schema::default()
        };
        s.types.insert(t);
        s
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for ShapeSeed<'_> {
    type Value = Schema;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Schema, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ShapeSeed<'_> {
    type Value = Schema;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Schema, E> {
        Ok(Self::leaf(JsonType::Boolean))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Schema, E> {
        Ok(Self::leaf(JsonType::Integer))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Schema, E> {
        Ok(Self::leaf(JsonType::Integer))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Schema, E> {
        Ok(Self::leaf(JsonType::Number))
    }
    fn visit_str<E>(self, _: &str) -> Result<Schema, E> {
        Ok(Self::leaf(JsonType::String))
    }
    fn visit_unit<E>(self) -> Result<Schema, E> {
        Ok(Self::leaf(JsonType::Null))
    }
    fn visit_none<E>(self) -> Result<Schema, E> {
        Ok(Self::leaf(JsonType::Null))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Schema, A::Error> {
        let mut s = Self::leaf(JsonType::Object);
        s.object_samples = 1;
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if self.depth >= self.limits.max_depth
                || s.properties.len() >= self.limits.max_properties
            {
                map.next_value::<serde::de::IgnoredAny>()?;
                s.truncated = true;
                continue;
            }
            let child = map.next_value_seed(ShapeSeed {
                limits: self.limits,
                depth: self.depth + 1,
                fold: self.fold,
            })?;
            let k = k.into_owned();
            s.required.insert(k.clone());
            s.properties.insert(k, child);
        }
        Ok(s)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Schema, A::Error> {
        let mut s = Self::leaf(JsonType::Array);
        let mut items: Option<Schema> = None;
        let mut seen = 0usize;
        if self.depth >= self.limits.max_depth {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                s.truncated = true;
            }
            return Ok(s);
        }
        while seen < self.limits.max_array_items.max(1) {
            let seed = ShapeSeed {
                limits: self.limits,
                depth: self.depth + 1,
                fold: self.fold,
            };
            match (items.as_mut(), self.fold) {
                (Some(i), Some(again)) => {
                    let fold = FoldSeed {
                        into: i,
                        limits: self.limits,
                        depth: self.depth + 1,
                        again,
                    };
                    if seq.next_element_seed(fold)?.is_none() {
                        break;
                    }
                }
                _ => match seq.next_element_seed(seed)? {
                    Some(e) => match items.as_mut() {
                        Some(i) => i.merge_at(e, self.limits, self.depth + 1),
                        None => items = Some(e),
                    },
                    None => break,
                },
            }
            seen += 1;
        }
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        s.items = items.map(Box::new);
        Ok(s)
    }
}

/// Keys of one object that [`FoldSeed`] folds (more: read again the plain way).
const FOLD_KEYS: usize = 64;

/// Folds one JSON value into `into` as it is read: the same as building its shape with
/// [`ShapeSeed`] at `depth` and merging that in with `merge_at`, without building it. Array
/// items after the first are read this way: they mostly repeat the first one's fields,
/// whose names and nodes would otherwise be allocated only to be merged and dropped.
///
/// Where folding could differ from building then merging (a key repeated in one object,
/// whose last value replaces the earlier ones in a built shape; a new field when `into`
/// already has `max_properties`, where merging admits fields in name order), it sets
/// `again` and fails, and the document is read again without folding.
struct FoldSeed<'s, 'a> {
    into: &'s mut Schema,
    limits: &'a SchemaLimits,
    depth: usize,
    again: &'a Cell<bool>,
}

impl FoldSeed<'_, '_> {
    fn leaf<E>(self, t: JsonType) -> Result<(), E> {
        self.into.types.insert(t);
        self.into.samples = self.into.samples.saturating_add(1);
        Ok(())
    }

    fn read_again<E: serde::de::Error>(&self) -> E {
        self.again.set(true);
        E::custom("shape read again without folding")
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for FoldSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for FoldSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        self.leaf(JsonType::Boolean)
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        self.leaf(JsonType::Integer)
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        self.leaf(JsonType::Integer)
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        self.leaf(JsonType::Number)
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        self.leaf(JsonType::String)
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.leaf(JsonType::Null)
    }
    fn visit_none<E>(self) -> Result<(), E> {
        self.leaf(JsonType::Null)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let limits = self.limits;
        let at_limit = self.depth >= limits.max_depth;
        // The keys the built shape would hold (its `required`), in the order read.
        let mut kept: Vec<std::borrow::Cow<'de, str>> = Vec::new();
        let mut truncated = false;
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if at_limit || kept.len() >= limits.max_properties {
                map.next_value::<serde::de::IgnoredAny>()?;
                truncated = true;
                continue;
            }
            // A repeated key is found by a scan of the keys kept so far: objects with more
            // keys than `FOLD_KEYS` are read the plain way, so that a hostile body cannot
            // make the scans quadratic in its size.
            if kept.len() >= FOLD_KEYS || kept.contains(&k) {
                return Err(self.read_again());
            }
            let room = self.into.properties.len() < limits.max_properties;
            match self.into.properties.get_mut(k.as_ref()) {
                Some(child) => map.next_value_seed(FoldSeed {
                    into: child,
                    limits,
                    depth: self.depth + 1,
                    again: self.again,
                })?,
                None if room => {
                    let child = map.next_value_seed(ShapeSeed {
                        limits,
                        depth: self.depth + 1,
                        fold: Some(self.again),
                    })?;
                    self.into.properties.insert(k.to_string(), child);
                }
                None => return Err(self.read_again()),
            }
            kept.push(k);
        }
        let into = self.into;
        into.types.insert(JsonType::Object);
        into.samples = into.samples.saturating_add(1);
        into.truncated |= truncated;
        if into.object_samples == 0 {
            into.required = kept.iter().map(|k| k.to_string()).collect();
        } else {
            into.required.retain(|r| kept.iter().any(|k| k == r));
        }
        into.object_samples = into.object_samples.saturating_add(1);
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let limits = self.limits;
        let into = self.into;
        into.types.insert(JsonType::Array);
        into.samples = into.samples.saturating_add(1);
        if self.depth >= limits.max_depth {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                into.truncated = true;
            }
            return Ok(());
        }
        let mut seen = 0usize;
        while seen < limits.max_array_items.max(1) {
            match into.items.as_deref_mut() {
                Some(items) => {
                    let fold = FoldSeed {
                        into: items,
                        limits,
                        depth: self.depth + 1,
                        again: self.again,
                    };
                    if seq.next_element_seed(fold)?.is_none() {
                        break;
                    }
                }
                None => {
                    let seed = ShapeSeed {
                        limits,
                        depth: self.depth + 1,
                        fold: Some(self.again),
                    };
                    match seq.next_element_seed(seed)? {
                        Some(e) => into.items = Some(Box::new(e)),
                        None => break,
                    }
                }
            }
            seen += 1;
        }
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

/// Hashes the shape while deserialising (see [`Schema::fingerprint`]): each value adds
/// hash(path, type) to the sum, so field order does not matter.
struct PrintSeed<'a> {
    limits: &'a SchemaLimits,
    depth: usize,
    path: u64,
}

pub(super) fn mix(a: u64, b: u64) -> u64 {
    // splitmix64 finaliser over the pair.
    let mut z = a ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

pub(super) fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Reads an object key as its hash, without copying it (an escaped key is unescaped into
/// the deserialiser's scratch buffer, not a new `String`).
struct KeyHash;

impl<'de> serde::de::DeserializeSeed<'de> for KeyHash {
    type Value = u64;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        d.deserialize_str(self)
    }
}

impl serde::de::Visitor<'_> for KeyHash {
    type Value = u64;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E>(self, k: &str) -> Result<u64, E> {
        Ok(hash_str(k))
    }
}

impl PrintSeed<'_> {
    fn leaf(&self, t: JsonType) -> u64 {
        mix(self.path, t as u64 + 1)
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for PrintSeed<'_> {
    type Value = u64;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for PrintSeed<'_> {
    type Value = u64;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<u64, E> {
        Ok(self.leaf(JsonType::Boolean))
    }
    fn visit_i64<E>(self, _: i64) -> Result<u64, E> {
        Ok(self.leaf(JsonType::Integer))
    }
    fn visit_u64<E>(self, _: u64) -> Result<u64, E> {
        Ok(self.leaf(JsonType::Integer))
    }
    fn visit_f64<E>(self, _: f64) -> Result<u64, E> {
        Ok(self.leaf(JsonType::Number))
    }
    fn visit_str<E>(self, _: &str) -> Result<u64, E> {
        Ok(self.leaf(JsonType::String))
    }
    fn visit_unit<E>(self) -> Result<u64, E> {
        Ok(self.leaf(JsonType::Null))
    }
    fn visit_none<E>(self) -> Result<u64, E> {
        Ok(self.leaf(JsonType::Null))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<u64, A::Error> {
        let mut sum = self.leaf(JsonType::Object);
        let mut n = 0usize;
        while let Some(k) = map.next_key_seed(KeyHash)? {
            if self.depth >= self.limits.max_depth || n >= self.limits.max_properties {
                map.next_value::<serde::de::IgnoredAny>()?;
                continue;
            }
            n += 1;
            let child = map.next_value_seed(PrintSeed {
                limits: self.limits,
                depth: self.depth + 1,
                path: mix(self.path, k),
            })?;
            sum = sum.wrapping_add(child);
        }
        Ok(sum)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
        let mut sum = self.leaf(JsonType::Array);
        // Items add the same as one item of each shape: collect distinct item prints.
        let mut items: [u64; 8] = [0; 8];
        let mut kinds = 0usize;
        let mut seen = 0usize;
        while seen < self.limits.max_array_items.max(1) && self.depth < self.limits.max_depth {
            let seed = PrintSeed {
                limits: self.limits,
                depth: self.depth + 1,
                path: mix(self.path, super::fingerprint::ITEM_PATH),
            };
            match seq.next_element_seed(seed)? {
                Some(p) => {
                    if !items[..kinds].contains(&p) && kinds < items.len() {
                        items[kinds] = p;
                        kinds += 1;
                        sum = sum.wrapping_add(p);
                    }
                }
                None => break,
            }
            seen += 1;
        }
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(sum)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn infer(v: Value) -> Schema {
        Schema::infer(&v)
    }

    #[test]
    fn infer_nested() {
        let s = infer(json!({
            "user": {"email": "a@b.c", "age": 3},
            "items": [{"id": 1}, {"id": 2.5, "name": null}],
            "ok": true
        }));
        assert_eq!(s.types, [JsonType::Object].into());
        let paths: BTreeSet<String> = s.field_paths().into_iter().collect();
        for p in [
            "$.user",
            "$.user.email",
            "$.user.age",
            "$.items",
            "$.items[].id",
            "$.items[].name",
            "$.ok",
        ] {
            assert!(paths.contains(p), "{p}");
        }
        assert_eq!(paths.len(), 7);
        let items = s.properties["items"].items.as_ref().unwrap();
        assert_eq!(
            items.properties["id"].types,
            [JsonType::Integer, JsonType::Number].into()
        );
        assert_eq!(items.required, ["id".to_string()].into());
        assert_eq!(items.object_samples, 2);
        assert_eq!(s.required.len(), 3);
    }

    #[test]
    fn merge_union_and_required_intersection() {
        let mut a = infer(json!({"id": 1, "name": "x"}));
        let b = infer(json!({"id": 2, "tags": ["a"]}));
        a.merge(&b);
        assert_eq!(
            a.properties.keys().cloned().collect::<Vec<_>>(),
            vec!["id", "name", "tags"]
        );
        assert_eq!(a.required, ["id".to_string()].into());
        assert_eq!(a.samples, 2);
        // A null sample does not reset `required`.
        a.merge(&infer(json!(null)));
        assert_eq!(a.required, ["id".to_string()].into());
        assert_eq!(a.types, [JsonType::Null, JsonType::Object].into());
        // Merging into an empty schema copies.
        let mut e = Schema::default();
        e.merge(&a);
        assert_eq!(e, a);
    }

    #[test]
    fn to_openapi_shapes() {
        let mut s = infer(json!({"id": 1, "price": 2, "tags": [], "meta": null}));
        s.merge(&infer(
            json!({"id": 2, "price": 2.5, "tags": ["x"], "meta": {"a": 1}}),
        ));
        let o = s.to_openapi();
        assert_eq!(o["type"], "object");
        assert_eq!(o["properties"]["id"], json!({"type": "integer"}));
        assert_eq!(o["properties"]["price"], json!({"type": "number"}));
        assert_eq!(
            o["properties"]["tags"],
            json!({"type": "array", "items": {"type": "string"}})
        );
        assert_eq!(o["properties"]["meta"]["nullable"], true);
        assert_eq!(o["properties"]["meta"]["type"], "object");
        assert_eq!(o["required"], json!(["id", "meta", "price", "tags"]));
        // Mixed types.
        let mut m = infer(json!("a"));
        m.merge(&infer(json!(1)));
        let o = m.to_openapi();
        assert_eq!(o["oneOf"].as_array().unwrap().len(), 2);
        assert_eq!(infer(json!(null)).to_openapi(), json!({"nullable": true}));
        assert_eq!(Schema::default().to_openapi(), json!({}));
        assert_eq!(
            infer(json!([])).to_openapi(),
            json!({"type": "array", "items": {}})
        );
    }

    #[test]
    fn bounds() {
        let limits = SchemaLimits {
            max_depth: 2,
            max_properties: 3,
            ..SchemaLimits::default()
        };
        let s = Schema::infer_with(&json!({"a": {"b": {"c": 1}}}), &limits);
        assert!(!s.truncated);
        let b = &s.properties["a"].properties["b"];
        assert!(b.truncated);
        assert!(b.properties.is_empty());
        assert_eq!(b.types, [JsonType::Object].into());

        let s = Schema::infer_with(&json!({"a": 1, "b": 2, "c": 3, "d": 4}), &limits);
        assert!(s.truncated);
        assert_eq!(s.properties.len(), 3);

        let mut s = Schema::infer_with(&json!({"a": 1, "b": 2, "c": 3}), &limits);
        s.merge_with(&Schema::infer_with(&json!({"x": 1}), &limits), &limits);
        assert!(s.truncated);
        assert_eq!(s.properties.len(), 3);
        assert!(s.required.is_empty());
    }

    #[test]
    fn type_sets_read_and_write_as_the_sets_they_replace() {
        for bits in 0u8..128 {
            let set: BTreeSet<JsonType> = JsonType::ALL
                .into_iter()
                .filter(|t| bits & t.bit() != 0)
                .collect();
            let ts: TypeSet = set.iter().copied().collect();
            assert_eq!(ts.len(), set.len());
            assert!(ts.iter().eq(set.iter().copied()));
            let text = serde_json::to_string(&set).unwrap();
            assert_eq!(serde_json::to_string(&ts).unwrap(), text);
            assert_eq!(serde_json::from_str::<TypeSet>(&text).unwrap(), ts);
        }
        let mut t = TypeSet::default();
        assert!(t.insert(JsonType::Array) && !t.insert(JsonType::Array));
    }

    #[test]
    fn serde_round_trip() {
        let mut s = infer(json!({"a": [1, {"b": null}], "c": "x"}));
        s.merge(&infer(json!({"a": [], "d": 1.5})));
        let text = serde_json::to_string(&s).unwrap();
        let back: Schema = serde_json::from_str(&text).unwrap();
        assert_eq!(back, s);
        assert!(text.contains("\"types\":[\"object\"]"));
        // Old or partial state files load with defaults.
        let partial: Schema = serde_json::from_str(r#"{"types":["string"]}"#).unwrap();
        assert_eq!(partial.types, [JsonType::String].into());
    }

    #[test]
    fn deep_values_do_not_recurse_past_the_limit() {
        let mut v = json!(1);
        for _ in 0..100 {
            v = json!([v]);
        }
        let s = Schema::infer(&v);
        let mut depth = 0;
        let mut cur = &s;
        while let Some(i) = &cur.items {
            cur = i;
            depth += 1;
        }
        assert_eq!(depth, SchemaLimits::default().max_depth);
        assert!(cur.truncated);
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            "[a-z]{0,4}".prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map("[a-e]", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// JSON text as APIs send it (lists of objects that share most of their fields), whose
    /// objects may repeat a key (also written escaped: `a\u0062` is `ab`).
    fn arb_text() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_string()),
            Just("true".to_string()),
            Just("7".to_string()),
            Just("-2.5".to_string()),
            Just("18446744073709551616".to_string()),
            Just("\"s\"".to_string()),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            let key = prop_oneof![
                8 => "[a-f]".prop_map(|k| k),
                1 => Just("ab".to_string()),
                1 => Just("a\\u0062".to_string()),
            ];
            let object = prop::collection::vec((key, inner.clone()), 0..4).prop_map(|kv| {
                let kv: Vec<String> = kv.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                format!("{{{}}}", kv.join(","))
            });
            let list = |v: Vec<String>| format!("[{}]", v.join(","));
            prop_oneof![
                prop::collection::vec(inner, 0..8).prop_map(list),
                object.clone(),
                prop::collection::vec(object, 1..8).prop_map(list),
            ]
        })
    }

    #[test]
    fn list_items_are_folded_as_read() {
        let l = SchemaLimits::default();
        let doc = br#"{"items":[{"id":1,"n":"a"},{"id":2},{"id":3.5,"n":null,"x":[1]}],"total":3}"#;
        let again = Cell::new(false);
        let folded = Schema::read_shape(doc, &l, Some(&again)).unwrap();
        assert!(!again.get(), "read once");
        assert_eq!(Some(&folded), Schema::read_shape(doc, &l, None).as_ref());
        let items = folded.properties["items"].items.as_ref().unwrap();
        assert_eq!((items.samples, items.object_samples), (3, 3));
        assert_eq!(items.required, ["id".to_string()].into());
        assert_eq!(
            items.properties["id"].types,
            [JsonType::Integer, JsonType::Number].into()
        );
        assert_eq!(items.properties["n"].samples, 2);
        // A key repeated in a later item: read again, the last value counts.
        let doc = br#"[{"a":1},{"a":"x","a":true}]"#;
        let again = Cell::new(false);
        assert_eq!(Schema::read_shape(doc, &l, Some(&again)), None);
        assert!(again.get());
        let s = Schema::from_json_slice(doc, &l).unwrap();
        let a = &s.items.as_ref().unwrap().properties["a"];
        assert_eq!(a.types, [JsonType::Integer, JsonType::Boolean].into());
        // An item with more keys than FOLD_KEYS: read again, the same shape.
        let wide: Vec<String> = (0..FOLD_KEYS + 6)
            .map(|i| format!("\"k{i}\":{i}"))
            .collect();
        let doc = format!("[{{\"k0\":1}},{{{}}}]", wide.join(","));
        let again = Cell::new(false);
        assert_eq!(Schema::read_shape(doc.as_bytes(), &l, Some(&again)), None);
        assert!(again.get());
        let s = Schema::from_json_slice(doc.as_bytes(), &l).unwrap();
        assert_eq!(Some(s), Schema::read_shape(doc.as_bytes(), &l, None));
    }

    proptest! {
        #[test]
        fn merge_is_commutative_on_shape(a in arb_json(), b in arb_json()) {
            let (sa, sb) = (Schema::infer(&a), Schema::infer(&b));
            let mut ab = sa.clone();
            ab.merge(&sb);
            let mut ba = sb.clone();
            ba.merge(&sa);
            prop_assert_eq!(&ab, &ba);
            // Every field of either sample is a field of the merge.
            let merged: BTreeSet<String> = ab.field_paths().into_iter().collect();
            for p in sa.field_paths().into_iter().chain(sb.field_paths()) {
                prop_assert!(merged.contains(&p));
            }
            // The export is an object with no `type: null`.
            let o = ab.to_openapi();
            prop_assert!(o.is_object());
            prop_assert!(!o.to_string().contains("\"type\":\"null\""));
        }

        /// Folding array items as they are read builds what building each item and
        /// merging it does, limits and repeated keys included.
        #[test]
        fn folded_shapes_are_built_shapes(t in arb_text(), depth in 0usize..6, props in 0usize..5, items in 0usize..6) {
            let l = SchemaLimits { max_depth: depth, max_properties: props, max_array_items: items };
            let b = t.as_bytes();
            prop_assert_eq!(Schema::from_json_slice(b, &l), Schema::read_shape(b, &l, None), "{}", t);
        }
    }

    #[test]
    fn shape_from_bytes_matches_infer() {
        let docs = [
            json!({"a": 1, "b": [1, "x", null], "c": {"d": 2.5}, "e": true}),
            json!([{"id": 1, "tags": ["a"]}, {"id": 2, "name": "n"}]),
            json!("text"),
            json!(null),
            json!({"deep": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}}),
        ];
        for d in docs {
            let bytes = serde_json::to_vec(&d).unwrap();
            let a = Schema::from_json_slice(&bytes, &SchemaLimits::default()).unwrap();
            assert_eq!(a, Schema::infer(&d), "{d}");
        }
        assert!(Schema::from_json_slice(b"{\"a\": ", &SchemaLimits::default()).is_none());
        assert!(Schema::from_json_slice(b"{} trailing", &SchemaLimits::default()).is_none());
    }

    #[test]
    fn fingerprints_follow_the_shape() {
        let l = SchemaLimits::default();
        let fp = |v: serde_json::Value| Schema::fingerprint(&serde_json::to_vec(&v).unwrap(), &l);
        assert_eq!(fp(json!({"a": 1, "b": "x"})), fp(json!({"b": "y", "a": 7})));
        assert_eq!(fp(json!([{"id": 1}, {"id": 2}])), fp(json!([{"id": 9}])));
        assert_ne!(fp(json!({"a": 1})), fp(json!({"a": "1"})));
        assert_ne!(fp(json!({"a": 1})), fp(json!({"b": 1})));
        assert_ne!(fp(json!({"a": {"b": 1}})), fp(json!({"a": 1, "b": 1})));
        assert!(Schema::fingerprint(b"{", &l).is_none());
        // An escaped key is the same key.
        assert_eq!(
            Schema::fingerprint(br#"{"a\u0062": 1}"#, &l),
            Schema::fingerprint(br#"{"ab": 2}"#, &l)
        );
    }
}
