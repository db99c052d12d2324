"""Thing Descriptions built from the model, in the WebThings and W3C TD 1.1 dialects."""
