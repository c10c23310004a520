#ifndef MODELROUTE_MODEL_DATA_H
#define MODELROUTE_MODEL_DATA_H

/// The built-in difficulty model: the bytes of a model file written by
/// `modelroute train --out difficulty-model.c`, compiled into the program so that
/// it costs no file read and only the pages a score touches are loaded.
/// Sets *length to the number of bytes.
const unsigned char *modelroute_builtin_difficulty_model(long *length);

#endif
