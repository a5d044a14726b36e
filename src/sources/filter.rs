//! Which collections are reported: `collections.include` globs (all when empty) minus
//! `collections.exclude` globs.

/// A compiled include/exclude pair.
#[derive(Debug, Clone, Default)]
pub struct CollectionFilter {
    include: Option<globset::GlobSet>,
    exclude: Option<globset::GlobSet>,
}

impl CollectionFilter {
    /// Build from glob lists; returns the first invalid pattern's error.
    pub fn new(include: &[String], exclude: &[String]) -> Result<CollectionFilter, String> {
        let build = |patterns: &[String]| -> Result<Option<globset::GlobSet>, String> {
            if patterns.is_empty() {
                return Ok(None);
            }
            let mut set = globset::GlobSetBuilder::new();
            for pattern in patterns {
                let glob = globset::GlobBuilder::new(pattern)
                    .literal_separator(false)
                    .build()
                    .map_err(|e| format!("{pattern:?}: {e}"))?;
                set.add(glob);
            }
            set.build().map(Some).map_err(|e| e.to_string())
        };
        Ok(CollectionFilter {
            include: build(include)?,
            exclude: build(exclude)?,
        })
    }

    /// No pattern at all: every collection is included.
    pub fn is_everything(&self) -> bool {
        self.include.is_none() && self.exclude.is_none()
    }

    pub fn includes(&self, name: &str) -> bool {
        self.include.as_ref().is_none_or(|set| set.is_match(name))
            && !self.exclude.as_ref().is_some_and(|set| set.is_match(name))
    }
}
