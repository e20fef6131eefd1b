//! Network models: fluid flows sharing links max-min fairly.
