//! Record batch compression (being written).
