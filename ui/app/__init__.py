"""The app's machinery: serving, per-user state, shareable links, the error boundary, caches and quotas."""
