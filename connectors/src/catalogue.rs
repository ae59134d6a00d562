//! The typed signatures of every built-in action. (Being written.)
