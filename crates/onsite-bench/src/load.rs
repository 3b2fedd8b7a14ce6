//! The relay under load (issue 13 §2): many simulated devices over real HTTP.
