//! The JSON path of a quote item (`quoteItem[0].quoteItem[2]`), rendered only when an error
//! needs it, so that pricing a valid quote allocates no path strings.

/// Where an item is in the quote.
#[derive(Debug, Clone, Copy)]
pub(super) struct ItemPath<'p> {
    parent: Option<&'p ItemPath<'p>>,
    index: usize,
}

impl<'p> ItemPath<'p> {
    /// `quoteItem[index]`.
    pub(super) fn top(index: usize) -> Self {
        ItemPath {
            parent: None,
            index,
        }
    }

    /// `<self>.quoteItem[index]`.
    pub(super) fn child(&'p self, index: usize) -> ItemPath<'p> {
        ItemPath {
            parent: Some(self),
            index,
        }
    }

    /// The path as text.
    pub(super) fn render(&self) -> String {
        match self.parent {
            None => format!("quoteItem[{}]", self.index),
            Some(parent) => format!("{}.quoteItem[{}]", parent.render(), self.index),
        }
    }

    /// The path of a field of the item, e.g. `at(".quantity")`.
    pub(super) fn at(&self, suffix: &str) -> String {
        let mut path = self.render();
        path.push_str(suffix);
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_paths_render_from_the_root() {
        let top = ItemPath::top(1);
        let child = top.child(2);
        assert_eq!(
            child.child(0).at(".productOffering.id"),
            "quoteItem[1].quoteItem[2].quoteItem[0].productOffering.id"
        );
    }
}
