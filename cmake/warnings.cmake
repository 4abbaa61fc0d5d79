# weft_warnings(target): the warning set every weft target builds with.
add_library(weft_warnings INTERFACE)
target_compile_options(weft_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
if(WEFT_WERROR)
  target_compile_options(weft_warnings INTERFACE -Werror)
endif()
