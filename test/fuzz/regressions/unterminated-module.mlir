// A 7xf64>8
module