# Checks that the code the documentation shows is the code the tests compile.
#
#   cmake -DROOT=<mcp-recovery source dir> -P tests/exemplars/check_docs.cmake
#   cmake -DROOT=<mcp-recovery source dir> -DUPDATE=ON -P tests/exemplars/check_docs.cmake   # rewrite the blocks
#
# In README.md and docs/**/*.md, a block marked
#
#   <!-- exemplar: tests/exemplars/<file> -->
#   ```cpp
#   <the file's content>
#   ```
#   <!-- /exemplar -->
#
# must show <file> byte for byte. Every tests/exemplars/*_exemplar.hpp must be shown at least once.
# With -DUPDATE=ON the blocks are rewritten from the files instead (then review the diff).

cmake_minimum_required(VERSION 3.16)

if(NOT DEFINED ROOT)
  message(FATAL_ERROR "check_docs.cmake: pass -DROOT=<mcp-recovery source directory>")
endif()

set(open_tag "<!-- exemplar: ")
set(fence "```cpp\n")
set(close_tag "```\n<!-- /exemplar -->")

# The 1-based line of `offset` in `text`.
function(mcpr_line_of text offset out)
  string(SUBSTRING "${text}" 0 ${offset} before)
  string(REGEX REPLACE "[^\n]" "" newlines "${before}")
  string(LENGTH "${newlines}" n)
  math(EXPR n "${n} + 1")
  set(${out} ${n} PARENT_SCOPE)
endfunction()

# The first line where `a` and `b` differ: its number, and the line in each.
function(mcpr_first_difference a b out_line out_a out_b)
  set(line 1)
  while(TRUE)
    string(FIND "${a}" "\n" ea)
    string(FIND "${b}" "\n" eb)
    if(ea EQUAL -1)
      set(la "${a}")
    else()
      string(SUBSTRING "${a}" 0 ${ea} la)
    endif()
    if(eb EQUAL -1)
      set(lb "${b}")
    else()
      string(SUBSTRING "${b}" 0 ${eb} lb)
    endif()
    if(NOT "${la}" STREQUAL "${lb}" OR ea EQUAL -1 OR eb EQUAL -1)
      if(ea EQUAL -1 AND NOT eb EQUAL -1)
        set(la "${la}<end of block>")
      elseif(eb EQUAL -1 AND NOT ea EQUAL -1)
        set(lb "${lb}<end of file>")
      endif()
      break()
    endif()
    math(EXPR ea "${ea} + 1")
    math(EXPR eb "${eb} + 1")
    string(SUBSTRING "${a}" ${ea} -1 a)
    string(SUBSTRING "${b}" ${eb} -1 b)
    math(EXPR line "${line} + 1")
  endwhile()
  set(${out_line} ${line} PARENT_SCOPE)
  set(${out_a} "${la}" PARENT_SCOPE)
  set(${out_b} "${lb}" PARENT_SCOPE)
endfunction()

file(GLOB_RECURSE pages RELATIVE "${ROOT}" "${ROOT}/docs/*.md")
list(APPEND pages README.md)
list(SORT pages)

set(problems 0)
set(blocks 0)
set(shown "")
foreach(page IN LISTS pages)
  file(READ "${ROOT}/${page}" text)
  set(rewritten "")
  set(pos 0)  # offset in `text` of what is not yet copied into `rewritten`
  while(TRUE)
    string(SUBSTRING "${text}" ${pos} -1 rest)
    string(FIND "${rest}" "${open_tag}" at)
    if(at EQUAL -1)
      break()
    endif()
    math(EXPR tag_at "${pos} + ${at}")
    mcpr_line_of("${text}" ${tag_at} line)
    string(LENGTH "${open_tag}" n)
    math(EXPR path_at "${tag_at} + ${n}")
    string(SUBSTRING "${text}" ${path_at} -1 rest)
    string(FIND "${rest}" " -->\n" path_end)
    if(path_end EQUAL -1)
      message(SEND_ERROR "${page}:${line}: an exemplar marker without its ' -->' on the same line")
      math(EXPR problems "${problems} + 1")
      break()
    endif()
    string(SUBSTRING "${rest}" 0 ${path_end} path)
    math(EXPR body_at "${path_at} + ${path_end} + 5")
    string(SUBSTRING "${text}" ${body_at} -1 rest)
    string(LENGTH "${fence}" n)
    string(SUBSTRING "${rest}" 0 ${n} opening)
    string(FIND "${rest}" "${close_tag}" body_end)
    if(NOT opening STREQUAL fence OR body_end EQUAL -1)
      message(SEND_ERROR "${page}:${line}: the exemplar marker for ${path} must be followed by a ```cpp block "
                         "and '<!-- /exemplar -->' right after its closing ```")
      math(EXPR problems "${problems} + 1")
      break()
    endif()
    math(EXPR length "${body_end} - ${n}")
    string(SUBSTRING "${rest}" ${n} ${length} shown_code)
    math(EXPR code_at "${body_at} + ${n}")
    math(EXPR blocks "${blocks} + 1")
    list(APPEND shown "${path}")

    if(NOT EXISTS "${ROOT}/${path}")
      message(SEND_ERROR "${page}:${line}: the block shows ${path}, which does not exist")
      math(EXPR problems "${problems} + 1")
      set(file_code "${shown_code}")
    else()
      file(READ "${ROOT}/${path}" file_code)
      if(NOT "${shown_code}" STREQUAL "${file_code}")
        if(UPDATE)
          message(STATUS "${page}:${line}: rewrote the block from ${path}")
        else()
          mcpr_first_difference("${shown_code}" "${file_code}" diff_line doc_text file_text)
          mcpr_line_of("${text}" ${code_at} first_code_line)
          math(EXPR doc_line "${first_code_line} + ${diff_line} - 1")
          message(SEND_ERROR "${page}:${doc_line}: the block differs from ${path} (its line ${diff_line}):\n"
                             "  ${page}: ${doc_text}\n  ${path}: ${file_text}\n"
                             "Show the file verbatim (cmake -DROOT=... -DUPDATE=ON -P ${CMAKE_CURRENT_LIST_FILE} "
                             "rewrites the blocks), or change the file and its test.")
          math(EXPR problems "${problems} + 1")
        endif()
      endif()
    endif()

    # Copy up to the code, then the file's content, and continue after the block's code.
    math(EXPR keep "${code_at} - ${pos}")
    string(SUBSTRING "${text}" ${pos} ${keep} kept)
    string(APPEND rewritten "${kept}${file_code}")
    math(EXPR pos "${code_at} + ${length}")
  endwhile()
  if(UPDATE)
    string(SUBSTRING "${text}" ${pos} -1 tail)
    string(APPEND rewritten "${tail}")
    if(NOT "${rewritten}" STREQUAL "${text}")
      file(WRITE "${ROOT}/${page}" "${rewritten}")
    endif()
  endif()
endforeach()

file(GLOB exemplars RELATIVE "${ROOT}" "${ROOT}/tests/exemplars/*_exemplar.hpp")
foreach(exemplar IN LISTS exemplars)
  if(NOT exemplar IN_LIST shown)
    message(SEND_ERROR "${exemplar} is shown by no page: add it to its concept page in docs/concepts/")
    math(EXPR problems "${problems} + 1")
  endif()
endforeach()

list(LENGTH pages page_count)
if(problems GREATER 0)
  message(FATAL_ERROR "docs: ${problems} problem(s) in ${blocks} exemplar block(s) of ${page_count} page(s)")
endif()
message(STATUS "docs: ${blocks} exemplar block(s) in ${page_count} page(s) show their files verbatim")
