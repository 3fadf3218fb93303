pub(crate) mod paired;
