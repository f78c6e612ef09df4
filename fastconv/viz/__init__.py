"""Pictures of data, training and learned features, drawn with matplotlib.

    from fastconv import viz
    viz.plot_images(x_train, y_train, path="images.png")       # the first nine images
    viz.plot_history(history, path="curves.png")               # loss and accuracy per epoch
    viz.plot_filters(model.layers[0], path="filters.png")      # a Conv2D layer's kernels
    viz.plot_feature_maps(model, x_test[0], path="maps.png")   # what each conv/pool layer sees
    viz.plot_model_confusion_matrix(model, x_test, y_test, path="confusion.png")

Every function returns a matplotlib Figure and, given `path=`, also saves it as a PNG.
The figures are built with matplotlib's object API (no pyplot state), so they render
headless. matplotlib is an optional dependency (`pip install "fastconv[plot]"`), imported
only when a function here draws: `import fastconv` never imports it.
"""
from fastconv.viz.confusion import (confusion_matrix, plot_confusion_matrix,
                                    plot_model_confusion_matrix)
from fastconv.viz.features import feature_maps, plot_feature_maps, plot_filters
from fastconv.viz.images import plot_images
from fastconv.viz.training import plot_history

__all__ = ["plot_images", "plot_history", "plot_filters", "feature_maps", "plot_feature_maps",
           "confusion_matrix", "plot_confusion_matrix", "plot_model_confusion_matrix"]
