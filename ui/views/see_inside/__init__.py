"""Views of the See inside section: convolution stepper, lesson and neuron figures, backpropagation."""
