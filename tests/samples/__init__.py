"""Running the documentation's code samples: extraction (``blocks``) and runners (``runners``)."""
