//! Any paths through path templating: the segment splitter, learning (insert and evaluate)
//! and lookup in a learned and in a blank trie. No panic, every template is a path, and a
//! lookup gives the same template whether the thread's memos of path words are cold or warm.
#![no_main]
use apitap::analyze::template::{segments, PathTrie, TemplateConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let cfg = TemplateConfig {
        // Small limits so that learning merges positions with few paths.
        param_threshold: 3,
        ..TemplateConfig::default()
    };
    let paths: Vec<&str> = text.split('\n').take(64).collect();
    let mut learned = PathTrie::<()>::new();
    for p in &paths {
        learned.insert(p, &cfg);
    }
    learned.evaluate(&cfg);
    let blank = PathTrie::<()>::new();
    for p in &paths {
        for trie in [&learned, &blank] {
            let first = trie.lookup(p, &cfg);
            assert!(first.starts_with('/'), "{p:?} gave {first:?}");
            assert_eq!(first, trie.lookup(p, &cfg), "{p:?}");
        }
        let mut segs = segments(p);
        while let Some(s) = segs.next() {
            assert!(!s.is_empty(), "{p:?}");
            assert!(!s.contains('/') || s.starts_with('/'), "{p:?}: {s:?}");
        }
        assert!(segs.at_end());
    }
});
