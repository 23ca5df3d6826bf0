"""The reporting side: sample grids and the GIF (render), quality (evaluate), generate, artifacts, summary."""
