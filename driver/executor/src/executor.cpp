// The executor is a template over the sync backend so that its tests can run
// it on sync::fuzz as well; production uses sync::os. Both are compiled here.
#include "executor_impl.hpp"

namespace weft::exec {

template class basic_executor<sync::os>;
template class basic_executor<sync::fuzz>;

}  // namespace weft::exec
