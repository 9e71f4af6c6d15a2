"""SQLite results store, leaderboard, exports and the HTML report."""
