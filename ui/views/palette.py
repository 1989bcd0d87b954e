"""The app's colours, once. Okabe–Ito: distinguishable with every common colour-vision deficiency,
and readable on the light and the dark theme. Colour scales: 'gray' for pixels (0 black, 1 white),
'Viridis' / 'Cividis' for magnitudes, 'RdBu' centred on 0 for signed values."""

BLUE = "#0072B2"        # the predicted / chosen class, training curves
ORANGE = "#E69F00"      # validation curves; the convolution window
SKY_BLUE = "#56B4E9"    # the unpadded image inside the padding
GREEN = "#009E73"       # the test split
VERMILION = "#D55E00"   # warnings on charts, winners of max pooling, the best sweep cell
GREY = "#999999"
MUTED = "#8C8C8C"       # the other classes' bars

SIGNED_SCALE = "RdBu"
