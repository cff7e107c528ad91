-- A released allocation keeps its port until its agent confirms the container is gone: `release_generation` is the
-- node generation that dropped it, and `released_at` (which frees the port) is set once the agent reports having
-- converged to that generation without errors. `replaced_by` marks an allocation being moved by hand: it is released
-- once its replacement runs.
ALTER TABLE allocations
  ADD COLUMN release_generation BIGINT UNSIGNED NULL,
  ADD COLUMN replaced_by BIGINT UNSIGNED NULL;

-- Deleting a node with live servers drains it first; the node is deleted (and revoked) once they have moved.
ALTER TABLE nodes ADD COLUMN delete_requested_at DATETIME(6) NULL;

-- Regions a customer would like their servers in, comma-separated, most wanted first.
ALTER TABLE users ADD COLUMN preferred_regions VARCHAR(400) NOT NULL DEFAULT '';
