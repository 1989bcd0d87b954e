"""What the pages show, one subpackage per section of the navigation; shared figure builders beside them."""
