"""Class mode views: send, sidebar box, push banner, start/join, wall, moderation, leaderboard."""
